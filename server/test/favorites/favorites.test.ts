import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { AuditLogEntity } from '../../src/modules/audit/audit-log.entity';
import { FavoriteEntity } from '../../src/modules/favorites/favorite.entity';
import { SessionEntity } from '../../src/modules/sessions/session.entity';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type TestUser } from '../support/auth';

const MY_FAVORITES = 'query MyFavorites { myFavorites { templateName createdAt template { name } } }';
const SET_FAVORITE = 'mutation SetFavorite($template: String!, $favorite: Boolean!) { setFavorite(template: $template, favorite: $favorite) { templateName createdAt } }';
const RECENT_APPS = 'query RecentApps($first: Int) { recentApps(first: $first) { templateName lastUsedAt sessionCount template { name } } }';

type Fav = { templateName: string; createdAt: string; template?: null };

describe('favorites: pinned templates and recent apps (GraphQL on real PostgreSQL)', () => {
  let app: TestApp;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    app = await startTestApp();
    alice = await createUserAndToken(app);
    bob = await createUserAndToken(app);
  });
  after(async () => {
    await app?.stop();
  });

  async function setFavorite(user: TestUser, template: string, favorite: boolean) {
    return app.gql<{ setFavorite: Fav[] }>(SET_FAVORITE, { template, favorite }, user.headers);
  }

  it('answers UNAUTHENTICATED without a token', async () => {
    const res = await app.gql(MY_FAVORITES);
    expect(res.body.errors?.[0]?.extensions?.code).to.equal('UNAUTHENTICATED');
    const set = await app.gql(SET_FAVORITE, { template: 'firefox', favorite: true });
    expect(set.body.errors?.[0]?.extensions?.code).to.equal('UNAUTHENTICATED');
  });

  it('starts empty, pins in order, is idempotent, and unpins', async () => {
    const empty = await app.gql<{ myFavorites: Fav[] }>(MY_FAVORITES, {}, alice.headers);
    expect(empty.body.errors).to.equal(undefined);
    expect(empty.body.data!.myFavorites).to.deep.equal([]);

    const first = await setFavorite(alice, 'firefox', true);
    expect(first.body.errors).to.equal(undefined);
    expect(first.body.data!.setFavorite.map((f) => f.templateName)).to.deep.equal(['firefox']);
    const pinnedAt = first.body.data!.setFavorite[0]!.createdAt;

    const second = await setFavorite(alice, 'vscode', true);
    expect(second.body.data!.setFavorite.map((f) => f.templateName)).to.deep.equal(['firefox', 'vscode']);

    // Pinning again keeps the first pin (and its time) and writes no second audit row.
    const again = await setFavorite(alice, 'firefox', true);
    expect(again.body.data!.setFavorite.map((f) => f.templateName)).to.deep.equal(['firefox', 'vscode']);
    expect(again.body.data!.setFavorite[0]!.createdAt).to.equal(pinnedAt);

    const listed = await app.gql<{ myFavorites: Fav[] }>(MY_FAVORITES, {}, alice.headers);
    // No cluster in this test app, so the template itself resolves to null (as for a deleted template).
    expect(listed.body.data!.myFavorites.map((f) => [f.templateName, f.template])).to.deep.equal([
      ['firefox', null],
      ['vscode', null],
    ]);

    const removed = await setFavorite(alice, 'firefox', false);
    expect(removed.body.data!.setFavorite.map((f) => f.templateName)).to.deep.equal(['vscode']);
    // Unpinning something not pinned is not an error.
    const removedAgain = await setFavorite(alice, 'firefox', false);
    expect(removedAgain.body.errors).to.equal(undefined);
    expect(removedAgain.body.data!.setFavorite.map((f) => f.templateName)).to.deep.equal(['vscode']);
  });

  it('keeps each user to their own favorites', async () => {
    await setFavorite(bob, 'gimp', true);
    const bobs = await app.gql<{ myFavorites: Fav[] }>(MY_FAVORITES, {}, bob.headers);
    expect(bobs.body.data!.myFavorites.map((f) => f.templateName)).to.deep.equal(['gimp']);
    const alices = await app.gql<{ myFavorites: Fav[] }>(MY_FAVORITES, {}, alice.headers);
    expect(alices.body.data!.myFavorites.map((f) => f.templateName)).to.deep.equal(['vscode']);
  });

  it('refuses a name that cannot be a template with NOT_FOUND', async () => {
    const res = await setFavorite(alice, 'Not A Template!', true);
    expect(res.body.errors?.[0]?.extensions?.code).to.equal('NOT_FOUND');
    const count = await app.services.database.dataSource.getRepository(FavoriteEntity).countBy({ userId: alice.id });
    expect(count).to.equal(1);
  });

  it('audits each real change (add and remove), attributed to the caller', async () => {
    const rows = await app.services.database.dataSource
      .getRepository(AuditLogEntity)
      .find({ where: { actorId: alice.id }, order: { id: 'ASC' } });
    const favoriteRows = rows.filter((r) => r.action.startsWith('favorite.')).map((r) => [r.action, r.resourceId, r.outcome]);
    expect(favoriteRows).to.deep.equal([
      ['favorite.add', 'firefox', 'success'],
      ['favorite.add', 'vscode', 'success'],
      ['favorite.remove', 'firefox', 'success'],
    ]);
  });

  it('removes a user\'s favorites with the user (ON DELETE CASCADE)', async () => {
    const carol = await createUserAndToken(app);
    await setFavorite(carol, 'firefox', true);
    const repo = app.services.database.dataSource.getRepository(FavoriteEntity);
    expect(await repo.countBy({ userId: carol.id })).to.equal(1);
    await app.services.database.dataSource.query('DELETE FROM users WHERE id = $1', [carol.id]);
    expect(await repo.countBy({ userId: carol.id })).to.equal(0);
  });

  describe('recentApps', () => {
    async function addSession(user: TestUser, template: string, createdAt: string, namespace = 'streamspace') {
      const id = randomUUID();
      await app.services.database.dataSource.getRepository(SessionEntity).insert({
        id,
        name: `s-${id.slice(0, 8)}`,
        namespace,
        userId: user.id,
        username: user.username,
        template,
        state: 'terminated',
        createdAt: new Date(createdAt),
      });
    }

    it('lists the templates of the caller\'s sessions, most recently started first, with counts', async () => {
      await addSession(alice, 'firefox', '2026-01-01T10:00:00Z');
      await addSession(alice, 'vscode', '2026-01-02T10:00:00Z');
      await addSession(alice, 'firefox', '2026-01-03T10:00:00Z');
      await addSession(alice, 'gimp', '2026-01-01T09:00:00Z');
      await addSession(bob, 'blender', '2026-02-01T10:00:00Z');
      // Another namespace's rows are not this installation's sessions.
      await addSession(alice, 'other-ns-app', '2026-03-01T10:00:00Z', 'elsewhere');

      const res = await app.gql<{ recentApps: { templateName: string; lastUsedAt: string; sessionCount: number; template: null }[] }>(
        RECENT_APPS,
        {},
        alice.headers,
      );
      expect(res.body.errors).to.equal(undefined);
      expect(res.body.data!.recentApps).to.deep.equal([
        { templateName: 'firefox', lastUsedAt: '2026-01-03T10:00:00.000Z', sessionCount: 2, template: null },
        { templateName: 'vscode', lastUsedAt: '2026-01-02T10:00:00.000Z', sessionCount: 1, template: null },
        { templateName: 'gimp', lastUsedAt: '2026-01-01T09:00:00.000Z', sessionCount: 1, template: null },
      ]);
    });

    it('honours `first` and clamps it to 1..50', async () => {
      const two = await app.gql<{ recentApps: { templateName: string }[] }>(RECENT_APPS, { first: 2 }, alice.headers);
      expect(two.body.data!.recentApps.map((a) => a.templateName)).to.deep.equal(['firefox', 'vscode']);
      const zero = await app.gql<{ recentApps: { templateName: string }[] }>(RECENT_APPS, { first: 0 }, alice.headers);
      expect(zero.body.data!.recentApps.map((a) => a.templateName)).to.deep.equal(['firefox']);
    });

    it('shows an admin only their own recent apps (it is a launcher list, not an admin report)', async () => {
      const admin = await signInAsAdmin(app);
      const res = await app.gql<{ recentApps: unknown[] }>(RECENT_APPS, {}, admin.headers);
      expect(res.body.data!.recentApps).to.deep.equal([]);
    });
  });
});
