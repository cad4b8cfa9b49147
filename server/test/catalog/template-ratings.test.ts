import { expect } from 'chai';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';

const TEMPLATE = `apiVersion: stream.streamspace.io/v1alpha1
kind: Template
metadata:
  name: rated-app
spec:
  displayName: Rated app
  category: Other
  baseImage: nginx:1.27
  appType: webapp
  webapp:
    port: 80
`;

const REVIEW = 'id templateName username stars review mine';

/** Ratings and reviews of templates (one per user, editable, deletable by author or admin) and usage figures, through the HTTP API. */
describe('catalog: template ratings, reviews and usage', function () {
  this.timeout(KUBE_START_TIMEOUT_MS);
  let app: TestApp;
  let admin: SignedIn;
  let alice: TestUser;
  let bob: TestUser;
  let auditor: TestUser;

  before(async () => {
    const cluster = await getTestCluster();
    const ns = await createTestNamespace('ratings');
    app = await startTestApp({ STREAMSPACE_CLUSTER: 'kubeconfig', KUBECONFIG: cluster.kubeconfigPath, STREAMSPACE_NAMESPACE: ns });
    admin = await signInAsAdmin(app);
    alice = await createUserAndToken(app, 'user');
    bob = await createUserAndToken(app, 'user');
    auditor = await createUserAndToken(app, 'auditor');
    const applied = await app.gql('mutation A($y: String!) { applyTemplateYaml(yaml: $y) { name } }', { y: TEMPLATE }, admin.headers);
    expect(applied.body.errors).to.equal(undefined);
  });
  after(async () => {
    await app?.stop();
  });

  const rate = (headers: Record<string, string>, stars: number, review?: string | null, templateName = 'rated-app') =>
    app.gql<{ rateTemplate: { id: string; stars: number; review: string | null; mine: boolean; username: string } }>(
      `mutation R($t: String!, $s: Int!, $r: String) { rateTemplate(templateName: $t, stars: $s, review: $r) { ${REVIEW} } }`,
      { t: templateName, s: stars, r: review },
      headers,
    );
  const summary = async (headers: Record<string, string>) =>
    (
      await app.gql<{ template: { rating: { average: number | null; count: number }; myReview: { stars: number; review: string | null } | null; usage: unknown } }>(
        '{ template(name: "rated-app") { rating { average count } myReview { stars review } usage { templateName installs launches activeSessions } } }',
        undefined,
        headers,
      )
    ).body.data!.template;
  const ratingRows = async () => (await app.services.database.dataSource.query(`SELECT count(*)::int AS n FROM template_ratings`))[0].n as number;

  it('lets each user rate once and edit it; the average and count follow', async () => {
    expect((await summary(alice.headers)).rating).to.deep.equal({ average: null, count: 0 });
    const a = await rate(alice.headers, 5, '  Works well.  ');
    expect(a.body.errors).to.equal(undefined);
    expect(a.body.data!.rateTemplate).to.include({ stars: 5, review: 'Works well.', mine: true, username: alice.username });
    const b = await rate(bob.headers, 2);
    expect(b.body.data!.rateTemplate).to.include({ stars: 2, review: null });
    const edited = await rate(alice.headers, 4, 'Works, mostly.');
    expect(edited.body.data!.rateTemplate.id, 'one review per user: edited in place').to.equal(a.body.data!.rateTemplate.id);
    const s = await summary(alice.headers);
    expect(s.rating).to.deep.equal({ average: 3, count: 2 });
    expect(s.myReview).to.deep.equal({ stars: 4, review: 'Works, mostly.' });
    expect(s.usage, 'users do not see usage').to.equal(null);

    const list = await app.gql<{ templateReviews: { totalCount: number; edges: { node: { username: string; mine: boolean } }[] } }>(
      `{ templateReviews(templateName: "rated-app", first: 1) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${REVIEW} } } } }`,
      undefined,
      bob.headers,
    );
    expect(list.body.data!.templateReviews.totalCount).to.equal(2);
    expect(list.body.data!.templateReviews.edges[0].node).to.include({ username: alice.username, mine: false });

    const audit = await app.services.database.dataSource.query(`SELECT actor_username, changes FROM audit_log WHERE action = 'template.rate' ORDER BY id`);
    expect(audit.map((r: { actor_username: string }) => r.actor_username)).to.deep.equal([alice.username, bob.username, alice.username]);
    expect(audit[2].changes).to.deep.include({ stars: 4, previous: { stars: 5, reviewLength: 11 } });
  });

  it('refuses bad input with typed errors and changes nothing', async () => {
    const before = await ratingRows();
    for (const [stars, review, template, code] of [
      [0, null, 'rated-app', 'BAD_USER_INPUT'],
      [6, null, 'rated-app', 'BAD_USER_INPUT'],
      [3, 'x'.repeat(501), 'rated-app', 'BAD_USER_INPUT'],
      [3, 'bell\u0007', 'rated-app', 'BAD_USER_INPUT'],
      [3, null, 'no-such-template', 'NOT_FOUND'],
      [3, null, 'Not A Name', 'NOT_FOUND'],
    ] as const) {
      const res = await rate(alice.headers, stars, review, template);
      expect(res.body.errors?.[0].extensions?.code, `${stars} ${template}`).to.equal(code);
    }
    expect((await rate(auditor.headers, 3)).body.errors?.[0].extensions?.code, 'auditors change nothing').to.equal('FORBIDDEN');
    expect(await ratingRows()).to.equal(before);
    expect((await summary(alice.headers)).myReview).to.deep.equal({ stars: 4, review: 'Works, mostly.' });
  });

  it("deletes the author's own review; another user's is FORBIDDEN; an admin may delete any (audited)", async () => {
    const del = (headers: Record<string, string>, id: string) =>
      app.gql<{ deleteTemplateReview: { id: string } }>('mutation D($id: ID!) { deleteTemplateReview(id: $id) { id username } }', { id }, headers);
    const reviews = await app.services.database.dataSource.query(`SELECT r.id, u.username FROM template_ratings r JOIN users u ON u.id = r.user_id`);
    const alices = reviews.find((r: { username: string }) => r.username === alice.username).id as string;
    const bobs = reviews.find((r: { username: string }) => r.username === bob.username).id as string;
    expect((await del(bob.headers, alices)).body.errors?.[0].extensions?.code).to.equal('FORBIDDEN');
    expect((await del(alice.headers, '00000000-0000-4000-8000-000000000000')).body.errors?.[0].extensions?.code).to.equal('NOT_FOUND');
    expect(await ratingRows()).to.equal(2);
    expect((await del(alice.headers, alices)).body.errors).to.equal(undefined);
    expect((await del(admin.headers, bobs)).body.errors).to.equal(undefined);
    expect(await ratingRows()).to.equal(0);
    const audit = await app.services.database.dataSource.query(`SELECT actor_username, changes FROM audit_log WHERE action = 'template.review.delete' ORDER BY id`);
    expect(audit.map((r: { changes: { moderated: boolean } }) => r.changes.moderated)).to.deep.equal([false, true]);
    expect((await summary(alice.headers)).rating).to.deep.equal({ average: null, count: 0 });
  });

  it('counts launches and running sessions per template for admins, operators and auditors', async () => {
    const launched = await app.gql<{ createSession: { id: string } }>('mutation { createSession(input: { template: "rated-app" }) { id } }', undefined, alice.headers);
    expect(launched.body.errors).to.equal(undefined);
    const usage = await app.gql<{ templateUsage: { templateName: string; installs: number; launches: number; activeSessions: number }[] }>(
      '{ templateUsage(names: ["rated-app", "unknown-app"]) { templateName installs launches activeSessions } }',
      undefined,
      auditor.headers,
    );
    expect(usage.body.errors).to.equal(undefined);
    expect(usage.body.data!.templateUsage).to.deep.equal([
      { templateName: 'rated-app', installs: 0, launches: 1, activeSessions: 1 },
      { templateName: 'unknown-app', installs: 0, launches: 0, activeSessions: 0 },
    ]);
    expect((await summary(admin.headers)).usage).to.deep.equal({ templateName: 'rated-app', installs: 0, launches: 1, activeSessions: 1 });
    const denied = await app.gql('{ templateUsage(names: ["rated-app"]) { launches } }', undefined, alice.headers);
    expect(denied.body.errors?.[0].extensions?.code).to.equal('FORBIDDEN');
  });
});
