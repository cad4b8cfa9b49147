import { expect } from 'chai';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { createDataSource } from '../../src/platform/database/data-source';
import { ENTITIES } from '../../src/composition/entities';
import { findMigrationDrift } from '../../src/platform/database/migrations-check';
import { createTestDatabase } from '../support/postgres';

const TABLES = ['users', 'sessions', 'connections', 'repositories', 'catalog_templates', 'configuration', 'audit_log', 'groups', 'group_members', 'session_group_shares'];

describe('migrations on a real PostgreSQL', () => {
  it('run up, down and up again with rows in every table', async () => {
    const ds = createDataSource({ url: await createTestDatabase('migrations'), poolSize: 2, entities: ENTITIES });
    await ds.initialize();
    const tables = async () =>
      (await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)).map((r: { table_name: string }) => r.table_name);
    const seed = async () => {
      const [user] = await ds.query(`INSERT INTO users (username, email, role) VALUES ('alice', 'alice@example.com', 'admin') RETURNING id`);
      await ds.query(
        `INSERT INTO sessions (id, name, namespace, user_id, username, template, state, spec) VALUES (gen_random_uuid(), 'alice-firefox-1', 'streamspace', $1, 'alice', 'firefox', 'running', '{"template":"firefox"}')`,
        [user.id],
      );
      const [session] = await ds.query(`SELECT id FROM sessions LIMIT 1`);
      await ds.query(`INSERT INTO connections (session_id, user_id, client_ip) VALUES ($1, $2, '127.0.0.1')`, [session.id, user.id]);
      const [repo] = await ds.query(`INSERT INTO repositories (name, url, allowed_users) VALUES ('official', 'https://example.com/t.git', '{alice}') RETURNING id`);
      await ds.query(
        `INSERT INTO catalog_templates (repository_id, name, display_name, description, tags, source_path, manifest) VALUES ($1, 'firefox', 'Firefox', 'A web browser', '{browser,web}', 'browsers/firefox.yaml', '{"kind":"Template"}')`,
        [repo.id],
      );
      await ds.query(`INSERT INTO configuration (key, value) VALUES ('sessions.defaultIdleTimeout', '"30m"')`);
      await ds.query(`INSERT INTO audit_log (action, resource_type, resource_id, changes) VALUES ('session.create', 'Session', 'alice-firefox-1', '{"template":"firefox"}')`);
      const [group] = await ds.query(`INSERT INTO groups (name, description) VALUES ('reviewers', 'Review the work') RETURNING id`);
      await ds.query(`INSERT INTO group_members (group_id, user_id, added_by, source) VALUES ($1, $2, $2, 'oidc')`, [group.id, user.id]);
      await ds.query(`INSERT INTO session_group_shares (session_id, group_id, role, created_by) VALUES ($1, $2, 'VIEWER', $3)`, [session.id, group.id, user.id]);
    };

    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      expect(applied.length).to.be.greaterThan(0);
      expect(await tables()).to.include.members(TABLES);
      await seed();
      for (const t of TABLES) expect(Number((await ds.query(`SELECT count(*) AS n FROM ${t}`))[0].n), t).to.equal(1);

      // The search trigger fills the weighted document; the GIN index makes it searchable.
      const hits = await ds.query(`SELECT name FROM catalog_templates WHERE search_vector @@ plainto_tsquery('simple', 'browser')`);
      expect(hits.map((h: { name: string }) => h.name)).to.deep.equal(['firefox']);

      for (let i = 0; i < applied.length; i++) await ds.undoLastMigration({ transaction: 'each' });
      expect(await tables()).to.not.include.members(['users']);
      expect((await tables()).filter((t: string) => TABLES.includes(t))).to.deep.equal([]);

      await ds.runMigrations({ transaction: 'each' });
      expect(await tables()).to.include.members(TABLES);
      await seed();
      expect(Number((await ds.query(`SELECT count(*) AS n FROM catalog_templates`))[0].n)).to.equal(1);
    } finally {
      await ds.destroy();
    }
  });

  it('migrations:check finds no drift for the real entities', async () => {
    expect(await findMigrationDrift(ENTITIES)).to.deep.equal([]);
  });

  it('migrations:check reports a deliberate drift (an entity with no migration)', async () => {
    @Entity('favorites_drift_probe')
    class DriftProbe {
      @PrimaryGeneratedColumn('uuid') id!: string;
      @Column({ type: 'varchar', length: 63 }) name!: string;
    }
    const drift = await findMigrationDrift([...ENTITIES, DriftProbe]);
    expect(drift.join('\n')).to.match(/CREATE TABLE "favorites_drift_probe"/);
  });
});
