import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startPostgres, type PostgresServer } from '../../src/platform/database/postgres-server';
import type { AlertType } from '../../src/modules/monitoring/dto/monitoring.types';
import { startTestApp, type TestApp } from '../support/app';
import { signInAsAdmin } from '../support/auth';
import { waitUntil } from '../support/wait';
import { startWebhookReceiver, subscribeAlerts, type WebhookReceiver } from './support';

/**
 * PostgreSQL unreachable: the alert must fire while the database is down, so it cannot live in a table then. The
 * replica's watchdog keeps it in memory, pushes it to subscribers and the webhook at once, and writes the alert row
 * once PostgreSQL answers again. The database is a PostgreSQL of this test's own, stopped and started on the same port.
 */
describe('monitoring: the PostgreSQL-unreachable alert fires while PostgreSQL is down', function () {
  this.timeout(180_000);
  let dir: string;
  let pg: PostgresServer | undefined;
  let app: TestApp;
  let hook: WebhookReceiver;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-monitoring-pg-'));
    pg = await startPostgres({ dir, persistent: true });
    hook = await startWebhookReceiver();
    app = await startTestApp({ DATABASE_URL: pg.url, STREAMSPACE_MONITORING_INTERVAL: '1h', STREAMSPACE_ALERT_WEBHOOK_URL: hook.url, STREAMSPACE_DB_HEALTH_TIMEOUT: '1s' });
  });

  after(async () => {
    await app?.stop();
    await pg?.stop();
    await hook?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fires from memory with the database stopped, reaches the subscription and the webhook, and is stored once it is back', async () => {
    const admin = await signInAsAdmin(app);
    const feed = await subscribeAlerts(app, admin.accessToken);
    try {
      expect(await app.services.monitoring.checkDependencies()).to.deep.equal([]);
      const port = pg!.port;
      await pg!.stop();
      pg = undefined;

      const fired = await app.services.monitoring.checkDependencies();
      expect(fired.map((a) => [a.ruleId, a.state, a.value])).to.deep.equal([['postgres-unreachable', 'firing', 0]]);
      expect(fired[0].source).to.not.equal('leader');
      // The leader's sample stores nothing and raises nothing itself meanwhile.
      const sample = await app.services.monitoring.sample();
      expect(sample.values.get('postgres_up')).to.equal(0);
      expect(sample.changed).to.deep.equal([]);
      // Still down: no second alert.
      expect(await app.services.monitoring.checkDependencies()).to.deep.equal([]);
      await feed.waitFor(1, 'the firing event while PostgreSQL is down');
      expect(feed.events.map((e) => [e.alertChanged.ruleId, e.alertChanged.state])).to.deep.equal([['postgres-unreachable', 'FIRING']]);
      await hook.waitFor(1, 'the webhook while PostgreSQL is down');
      expect(hook.bodies[0].body).to.deep.include({ event: 'alert.firing' });
      expect(hook.bodies[0].body.alert).to.include({ ruleId: 'postgres-unreachable', id: fired[0].id });

      pg = await startPostgres({ dir, persistent: true, port });
      let resolved: AlertType[] = [];
      await waitUntil(async () => {
        resolved = await app.services.monitoring.checkDependencies();
        return resolved.length > 0;
      }, 'the alert to resolve once PostgreSQL answers');
      expect(resolved.map((a) => [a.ruleId, a.state, a.id])).to.deep.equal([['postgres-unreachable', 'resolved', fired[0].id]]);
      await feed.waitFor(2, 'the resolved event');
      await hook.waitFor(2, 'the resolved webhook');
      expect(hook.bodies[1].body).to.deep.include({ event: 'alert.resolved' });

      // The episode reached the table after the fact, with its real times.
      await waitUntil(async () => {
        const res = await app.gql<{ alerts: { id: string; state: string }[] }>('query { alerts { id state ruleId firedAt resolvedAt } }', {}, admin.headers);
        return res.body.data?.alerts.some((a) => a.id === fired[0].id && a.state === 'RESOLVED') ?? false;
      }, 'the stored alert');
      const [row] = (await app.services.database.dataSource.query('SELECT fired_at, resolved_at, source FROM alerts WHERE id = $1', [fired[0].id])) as { fired_at: Date; resolved_at: Date; source: string }[];
      expect(row.fired_at.getTime()).to.equal(fired[0].firedAt.getTime());
      expect(row.resolved_at.getTime()).to.equal(resolved[0].resolvedAt!.getTime());
      expect(row.source).to.equal(fired[0].source);
      const [rule] = (await app.services.database.dataSource.query("SELECT state, last_value FROM alert_rules WHERE id = 'postgres-unreachable'")) as { state: string; last_value: number }[];
      expect(rule).to.deep.equal({ state: 'ok', last_value: 1 });
    } finally {
      await feed.close();
    }
  });

  it('fires the API-server alert on a replica that cannot reach the API server, though no replica leads then', async () => {
    // A kubeconfig naming a loopback port nothing listens on: a real connection refusal on every request.
    const closed = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    const kubeconfig = path.join(dir, 'unreachable.kubeconfig');
    fs.writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster:\n    server: https://127.0.0.1:${closed}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: c\n  context:\n    cluster: gone\n    user: u\ncurrent-context: c\n`,
    );
    const db = await startPostgres({ dir: path.join(dir, 'second'), persistent: false });
    const lonely = await startTestApp({ DATABASE_URL: db.url, STREAMSPACE_CLUSTER: 'kubeconfig', KUBECONFIG: kubeconfig, STREAMSPACE_MONITORING_INTERVAL: '1h', STREAMSPACE_INSTALL_CRDS: 'false' });
    try {
      expect(lonely.services.jobs.active, 'no lease, so this replica does not lead').to.equal(false);
      const fired = await lonely.services.monitoring.checkDependencies();
      expect(fired.map((a) => [a.ruleId, a.state, a.value])).to.deep.equal([['apiserver-unreachable', 'firing', 0]]);
      const [row] = (await lonely.services.database.dataSource.query("SELECT state, source FROM alerts WHERE rule_id = 'apiserver-unreachable'")) as { state: string; source: string }[];
      expect(row).to.deep.equal({ state: 'firing', source: fired[0].source });
      const [rule] = (await lonely.services.database.dataSource.query("SELECT state, last_value FROM alert_rules WHERE id = 'apiserver-unreachable'")) as { state: string; last_value: number }[];
      expect(rule).to.deep.equal({ state: 'firing', last_value: 0 });
    } finally {
      await lonely.stop();
      await db.stop();
    }
  });
});
