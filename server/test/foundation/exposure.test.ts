import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { MAX_OPERATION_NAME_LABELS } from '../../src/platform/http/metrics';
import { startTestApp, type TestApp } from '../support/app';
import { bearer, createUserAndToken, signInAsAdmin } from '../support/auth';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';

/** The distinct operation_name label values of the GraphQL operation counter. */
function operationNames(metricsText: string): Set<string> {
  const names = new Set<string>();
  for (const m of metricsText.matchAll(/^streamspace_graphql_operations_total\{operation_name="([^"]*)"/gm)) names.add(m[1]);
  return names;
}

describe('exposure: /readyz details, /metrics token, bounded metric labels', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ STREAMSPACE_METRICS_TOKEN: METRICS_TOKEN });
  });
  after(async () => {
    await app?.stop();
  });
  const metrics = async (headers: Record<string, string>) => (await fetch(`${app.url}/metrics`, { headers })).text();

  it('/readyz: anonymous callers and non-admins get the status only; an admin gets the checks', async () => {
    const anonymous = await fetch(`${app.url}/readyz`);
    expect(anonymous.status).to.equal(200);
    const text = await anonymous.text();
    expect(JSON.parse(text)).to.deep.equal({ status: 'ready' });
    expect(text).not.to.match(/127\.0\.0\.1|localhost|postgres/i);
    const user = await createUserAndToken(app);
    expect(await (await fetch(`${app.url}/readyz`, { headers: user.headers })).json()).to.deep.equal({ status: 'ready' });
    expect(await (await fetch(`${app.url}/readyz`, { headers: bearer('forged') })).json()).to.deep.equal({ status: 'ready' });
    const admin = await signInAsAdmin(app);
    const detailed = (await (await fetch(`${app.url}/readyz`, { headers: admin.headers })).json()) as { checks: { name: string; ok: boolean; target?: string }[] };
    expect(detailed.checks.find((c) => c.name === 'database')).to.include({ ok: true }).and.to.have.property('target');
  });

  it('/metrics with STREAMSPACE_METRICS_TOKEN: 401 without it or with another token; 200 with it or as an admin', async () => {
    const none = await fetch(`${app.url}/metrics`);
    expect(none.status).to.equal(401);
    expect(none.headers.get('www-authenticate')).to.match(/^Bearer/);
    expect(await none.text()).not.to.match(/process_cpu/);
    expect((await fetch(`${app.url}/metrics`, { headers: bearer('not-the-metrics-token-at-all') })).status).to.equal(401);
    const user = await createUserAndToken(app);
    expect((await fetch(`${app.url}/metrics`, { headers: user.headers })).status).to.equal(401);
    const withToken = await fetch(`${app.url}/metrics`, { headers: bearer(METRICS_TOKEN) });
    expect(withToken.status).to.equal(200);
    expect(await withToken.text()).to.match(/process_cpu_user_seconds_total/);
    expect((await fetch(`${app.url}/metrics`, { headers: (await signInAsAdmin(app)).headers })).status).to.equal(200);
  });

  it('1,000 random operation names from anonymous callers add at most one series name (`other`)', async () => {
    const before = operationNames(await metrics(bearer(METRICS_TOKEN)));
    for (let i = 0; i < 1000; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => {
          const name = `Probe${randomBytes(8).toString('hex')}`;
          // Half name the operation in the document, half only in the request's operationName.
          const body = j % 2 ? { query: `query ${name} { version { version } }` } : { query: '{ version { version } }', operationName: name };
          return fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        }),
      );
    }
    const after = operationNames(await metrics(bearer(METRICS_TOKEN)));
    const added = [...after].filter((n) => !before.has(n));
    expect(added.filter((n) => n !== 'other' && n !== 'anonymous'), 'no series named by an anonymous caller').to.deep.equal([]);
    expect(after.size).to.be.at.most(before.size + 2);
  });

  it('names from authenticated callers get their own labels, up to a fixed number; the rest are `other`', async () => {
    const admin = await signInAsAdmin(app);
    await app.gql('query KnownClientOperation { version { version } }', undefined, admin.headers);
    const first = operationNames(await metrics(bearer(METRICS_TOKEN)));
    expect(first.has('KnownClientOperation')).to.equal(true);
    for (let i = 0; i < MAX_OPERATION_NAME_LABELS + 100; i += 50) {
      await Promise.all(Array.from({ length: 50 }, () => app.gql(`query Flood${randomBytes(8).toString('hex')} { version { version } }`, undefined, admin.headers)));
    }
    const after = operationNames(await metrics(bearer(METRICS_TOKEN)));
    expect(after.size).to.be.at.most(MAX_OPERATION_NAME_LABELS + 2); // the admitted names, `other`, `anonymous`
    expect(after.has('other')).to.equal(true);
    // A name admitted before the flood keeps its label.
    await app.gql('query KnownClientOperation { version { version } }', undefined, admin.headers);
    expect(await metrics(bearer(METRICS_TOKEN))).to.match(/streamspace_graphql_operations_total\{operation_name="KnownClientOperation",operation_type="query",outcome="success"\} 2/);
  });
});
