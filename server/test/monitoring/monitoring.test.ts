import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { CoreV1Api } from '@kubernetes/client-node';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { startWebhookReceiver, subscribeAlerts, type WebhookReceiver } from './support';

const RULE_FIELDS = 'id series comparator threshold severity enabled description webhookHost state lastValue lastEvaluatedAt updatedAt';

interface Rule {
  id: string;
  series: string;
  comparator: string;
  threshold: number;
  severity: string;
  enabled: boolean;
  webhookHost: string | null;
  state: string;
  lastValue: number | null;
}

describe('monitoring: sampled series, alert rules and alerts on a real PostgreSQL and kube-apiserver', function () {
  let app: TestApp;
  let admin: SignedIn;
  let user: TestUser;
  let core: CoreV1Api;
  let hook: WebhookReceiver;
  let dataDir: string;
  const nodeName = `monitor-not-ready-${process.pid}`;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const ns = await createTestNamespace('monitoring');
    hook = await startWebhookReceiver();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-monitoring-'));
    app = await startTestApp({
      STREAMSPACE_CLUSTER: 'kubeconfig',
      KUBECONFIG: cluster.kubeconfigPath,
      STREAMSPACE_NAMESPACE: ns,
      // Samples are taken by the test (monitoring.sample()), not by the clock: one at start, then not for an hour.
      STREAMSPACE_MONITORING_INTERVAL: '1h',
      STREAMSPACE_ALERT_WEBHOOK_URL: hook.url,
      STREAMSPACE_ALERT_WEBHOOK_TIMEOUT: '1s',
      STREAMSPACE_GIT_ALLOW_FILE: 'true',
      STREAMSPACE_DATA_DIR: dataDir,
    });
    admin = await signInAsAdmin(app);
    user = await createUserAndToken(app);
  });

  after(async () => {
    await core?.deleteNode({ name: nodeName }).catch(() => undefined);
    await app?.stop();
    await hook?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const rules = async () => {
    const res = await app.gql<{ alertRules: Rule[] }>(`query Rules { alertRules { ${RULE_FIELDS} } }`, {}, admin.headers);
    expect(res.body.errors).to.equal(undefined);
    return new Map(res.body.data!.alertRules.map((r) => [r.id, r]));
  };

  it('ships the default rules, each one with its series and threshold', async () => {
    const byId = await rules();
    expect([...byId.keys()]).to.deep.equal(['apiserver-unreachable', 'catalog-sync-failing', 'node-not-ready', 'postgres-unreachable', 'quota-nearly-exhausted', 'sessions-failing-to-start']);
    expect(byId.get('node-not-ready')).to.include({ series: 'nodes_not_ready', comparator: 'ABOVE', threshold: 0, severity: 'CRITICAL', enabled: true, webhookHost: null });
    expect(byId.get('quota-nearly-exhausted')).to.include({ series: 'quota_usage_max_ratio', threshold: 0.9 });
    expect(byId.get('postgres-unreachable')).to.include({ series: 'postgres_up', comparator: 'BELOW', threshold: 1 });
  });

  it('samples every series into PostgreSQL and reads them back downsampled over an hour or a day', async () => {
    const first = await app.services.monitoring.sample();
    const second = await app.services.monitoring.sample();
    expect(first.values.get('postgres_up')).to.equal(1);
    expect(first.values.get('apiserver_up')).to.equal(1);
    expect(first.values.get('nodes_total')).to.be.greaterThanOrEqual(3);
    expect(second.values.get('nodes_not_ready')).to.equal(0);
    // Rates need two readings of the counters: the second sample has them.
    for (const name of ['heartbeats_per_second', 'gateway_requests_per_second', 'gateway_bytes_per_second', 'job_runs', 'catalog_syncs']) expect(second.values.has(name), name).to.equal(true);
    const [{ n }] = (await app.services.database.dataSource.query('SELECT count(*)::int AS n FROM metric_samples WHERE at = $1', [second.at])) as { n: number }[];
    expect(n).to.equal(second.values.size);

    for (const range of ['HOUR', 'DAY']) {
      const res = await app.gql<{ metricSeries: { name: string; kind: string; unit: string; points: { at: string; value: number }[] }[] }>(
        'query Series($names: [String!]!, $range: MetricRange!) { metricSeries(names: $names, range: $range) { name kind unit description points { at value } } }',
        { names: ['nodes_total', 'postgres_up', 'sessions_running', 'heartbeats_per_second'], range },
        admin.headers,
      );
      expect(res.body.errors, range).to.equal(undefined);
      const series = new Map(res.body.data!.metricSeries.map((s) => [s.name, s]));
      expect(series.get('postgres_up')!.points.at(-1)!.value).to.equal(1);
      expect(series.get('nodes_total')!.points.at(-1)!.value).to.be.greaterThanOrEqual(3);
      expect(series.get('sessions_running')).to.include({ kind: 'GAUGE', unit: 'sessions' });
      expect(series.get('heartbeats_per_second')).to.include({ kind: 'RATE' });
      // Both samples fall in one bucket (a minute or 15 minutes): one point each, their average.
      expect(series.get('postgres_up')!.points.length).to.be.within(1, 2);
    }
    const unknown = await app.gql('query { metricSeries(names: ["no_such_series"]) { name } }', {}, admin.headers);
    expect(unknown.body.errors?.[0].extensions).to.include({ code: 'BAD_USER_INPUT' });
    const forbidden = await app.gql('query { metricSeries(names: ["postgres_up"]) { name } }', {}, user.headers);
    expect(forbidden.body.errors?.[0].extensions?.code).to.equal('FORBIDDEN');
  });

  it('exports the platform metrics in /metrics', async () => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    for (const name of [
      'streamspace_sessions',
      'streamspace_active_connections',
      'streamspace_heartbeats_total',
      'streamspace_gateway_requests_total',
      'streamspace_gateway_bytes_total',
      'streamspace_reconcile_duration_seconds',
      'streamspace_session_startup_duration_seconds',
      'streamspace_job_runs_total',
      'streamspace_catalog_syncs_total',
    ]) {
      expect(text, name).to.include(`# TYPE ${name} `);
    }
    expect(text).to.match(/streamspace_job_runs_total\{job="metrics-sampler",outcome="success"\} [1-9]/);
    expect(text).to.match(/streamspace_sessions\{phase="Running"\} 0/);
  });

  it('fires when a node is NotReady and resolves when it is gone: the table, the subscription and the webhook say so', async function () {
    this.timeout(120_000);
    const feed = await subscribeAlerts(app, admin.accessToken);
    const before = hook.bodies.length;
    try {
      // A Node no kubelet (nor kwok) keeps: its Ready condition is never True.
      await core.createNode({ body: { metadata: { name: nodeName, labels: { 'streamspace.io/test': 'true' } } } });
      const fired = await app.services.monitoring.sample();
      expect(fired.values.get('nodes_not_ready')).to.equal(1);
      expect(fired.changed.map((a) => [a.ruleId, a.state])).to.deep.equal([['node-not-ready', 'firing']]);
      expect((await rules()).get('node-not-ready')).to.include({ state: 'FIRING', lastValue: 1 });
      const open = await app.gql<{ alerts: { ruleId: string; state: string; value: number; source: string; resolvedAt: string | null; message: string }[] }>(
        'query Open { alerts(firingOnly: true) { ruleId state value source resolvedAt message } }',
        {},
        admin.headers,
      );
      expect(open.body.data!.alerts).to.have.length(1);
      expect(open.body.data!.alerts[0]).to.include({ ruleId: 'node-not-ready', state: 'FIRING', value: 1, source: 'leader', resolvedAt: null });
      expect(open.body.data!.alerts[0].message).to.match(/NotReady.*nodes_not_ready = 1/);

      // Still breached: no second alert.
      expect((await app.services.monitoring.sample()).changed).to.deep.equal([]);

      await core.deleteNode({ name: nodeName });
      const resolved = await app.services.monitoring.sample();
      expect(resolved.changed.map((a) => [a.ruleId, a.state])).to.deep.equal([['node-not-ready', 'resolved']]);
      expect((await rules()).get('node-not-ready')).to.include({ state: 'OK', lastValue: 0 });

      await feed.waitFor(2, 'the firing and resolved events');
      expect(feed.errors).to.deep.equal([]);
      expect(feed.events.map((e) => [e.alertChanged.ruleId, e.alertChanged.state])).to.deep.equal([
        ['node-not-ready', 'FIRING'],
        ['node-not-ready', 'RESOLVED'],
      ]);
      await hook.waitFor(before + 2, 'two webhook deliveries');
      const delivered = hook.bodies.slice(before);
      expect(delivered.map((d) => [d.body.event, d.body.alert.ruleId])).to.deep.equal([
        ['alert.firing', 'node-not-ready'],
        ['alert.resolved', 'node-not-ready'],
      ]);
      expect(delivered[0].path).to.equal('/hooks/secret-token-123');
      expect(delivered[1].body.alert.resolvedAt).to.be.a('string');
    } finally {
      await feed.close();
    }
  });

  it('fires on a failing catalog sync; an edited threshold resolves it; the change is audited and the webhook shown by host only', async function () {
    this.timeout(120_000);
    const other = await startWebhookReceiver();
    try {
      const add = await app.gql<{ addRepository: { id: string } }>(
        'mutation Add($input: AddRepositoryInput!) { addRepository(input: $input) { id } }',
        { input: { name: 'missing', url: `file://${path.join(dataDir, 'no-such-repo.git')}`, autoSync: false } },
        admin.headers,
      );
      expect(add.body.errors).to.equal(undefined);
      const sync = await app.gql<{ syncRepository: { status: string } }>('mutation Sync($id: ID!) { syncRepository(id: $id) { status } }', { id: add.body.data!.addRepository.id }, admin.headers);
      expect(sync.body.data?.syncRepository.status, 'the sync fails').to.equal('FAILED');

      // The rule's own webhook replaces the global one; only its host is ever shown or audited.
      const edit = (id: string, input: Record<string, unknown>, headers = admin.headers) =>
        app.gql<{ updateAlertRule: Rule }>(`mutation Edit($id: ID!, $input: UpdateAlertRuleInput!) { updateAlertRule(id: $id, input: $input) { ${RULE_FIELDS} } }`, { id, input }, headers);
      const withHook = await edit('catalog-sync-failing', { webhookUrl: other.url });
      expect(withHook.body.errors).to.equal(undefined);
      expect(withHook.body.data!.updateAlertRule.webhookHost).to.equal(new URL(other.url).host);
      expect(JSON.stringify(withHook.body)).not.to.include('secret-token-123');

      const fired = await app.services.monitoring.sample();
      expect(fired.values.get('catalog_repositories_failed')).to.equal(1);
      expect(fired.changed.map((a) => [a.ruleId, a.state])).to.deep.equal([['catalog-sync-failing', 'firing']]);
      await other.waitFor(1, 'the rule webhook');
      expect(other.bodies[0].body).to.deep.include({ event: 'alert.firing' });
      expect(other.bodies[0].body.alert).to.include({ ruleId: 'catalog-sync-failing', value: 1, threshold: 0 });

      const raised = await edit('catalog-sync-failing', { threshold: 5, severity: 'CRITICAL' });
      expect(raised.body.data!.updateAlertRule).to.include({ threshold: 5, severity: 'CRITICAL' });
      const resolved = await app.services.monitoring.sample();
      expect(resolved.changed.map((a) => [a.ruleId, a.state])).to.deep.equal([['catalog-sync-failing', 'resolved']]);

      const audit = await app.gql<{ auditLog: { edges: { node: { action: string; resourceId: string; changes: Record<string, unknown> } }[] } }>(
        'query Audit { auditLog(first: 10, filter: { action: "alert-rule.update" }) { edges { node { action resourceId changes } } } }',
        {},
        admin.headers,
      );
      expect(audit.body.errors).to.equal(undefined);
      const entries = audit.body.data!.auditLog.edges.map((e) => e.node);
      expect(entries).to.have.length(2);
      expect(entries.map((e) => e.changes)).to.deep.include({ threshold: { from: 0, to: 5 }, severity: { from: 'warning', to: 'critical' } });
      expect(JSON.stringify(entries)).not.to.include('secret-token-123');

      for (const [input, code] of [
        [{ webhookUrl: 'ftp://example.com/x' }, 'BAD_USER_INPUT'],
        [{ webhookUrl: 'https://user:pw@example.com/x' }, 'BAD_USER_INPUT'],
        [{ webhookUrl: 'not a url' }, 'BAD_USER_INPUT'],
      ] as const) {
        const bad = await edit('catalog-sync-failing', input);
        expect(bad.body.errors?.[0].extensions?.code, JSON.stringify(input)).to.equal(code);
      }
      expect((await edit('no-such-rule', { threshold: 1 })).body.errors?.[0].extensions?.code).to.equal('NOT_FOUND');
      expect((await edit('catalog-sync-failing', { threshold: 1 }, user.headers)).body.errors?.[0].extensions?.code).to.equal('FORBIDDEN');
      // Nothing half-written: the refused edits changed nothing.
      expect((await rules()).get('catalog-sync-failing')).to.include({ threshold: 5, severity: 'CRITICAL', webhookHost: new URL(other.url).host });
      // Back to the global webhook.
      expect((await edit('catalog-sync-failing', { webhookUrl: '' })).body.data!.updateAlertRule.webhookHost).to.equal(null);
    } finally {
      await other.close();
    }
  });

  it('a webhook that fails or hangs is logged by host and never delays sampling', async function () {
    this.timeout(60_000);
    hook.status = 500;
    try {
      await app.services.monitoring.webhooks.settled();
      const failedBefore = app.services.monitoring.webhooks.stats.failed;
      await core.createNode({ body: { metadata: { name: nodeName, labels: { 'streamspace.io/test': 'true' } } } });
      expect((await app.services.monitoring.sample()).changed.map((a) => a.state)).to.deep.equal(['firing']);
      await core.deleteNode({ name: nodeName });
      expect((await app.services.monitoring.sample()).changed.map((a) => a.state)).to.deep.equal(['resolved']);
      await app.services.monitoring.webhooks.settled();
      expect(app.services.monitoring.webhooks.stats.failed - failedBefore).to.equal(2);
      const logged = app.logs.filter((l) => l.msg === 'alert webhook: delivery refused');
      expect(logged.length).to.be.greaterThanOrEqual(2);
      expect(logged[0]).to.include({ host: new URL(hook.url).host, status: 500 });
      expect(JSON.stringify(app.logs)).not.to.include('secret-token-123');

      // A receiver that never answers: sample() has returned while the delivery is still held open.
      hook.hold = true;
      const heldBefore = hook.bodies.length;
      await core.createNode({ body: { metadata: { name: nodeName, labels: { 'streamspace.io/test': 'true' } } } });
      expect((await app.services.monitoring.sample()).changed.map((a) => a.state)).to.deep.equal(['firing']);
      await hook.waitFor(heldBefore + 1, 'the held delivery to arrive');
      expect(hook.held.length, 'the delivery is still unanswered after sample() returned').to.equal(1);
      expect(hook.held[0].writableEnded).to.equal(false);
      await app.services.monitoring.webhooks.settled();
      const timedOut = app.logs.filter((l) => l.msg === 'alert webhook: delivery failed');
      expect(timedOut.at(-1)).to.include({ host: new URL(hook.url).host, err: 'no answer within 1000 ms' });
      await core.deleteNode({ name: nodeName });
      hook.hold = false;
      expect((await app.services.monitoring.sample()).changed.map((a) => a.state)).to.deep.equal(['resolved']);
    } finally {
      hook.status = 200;
      hook.hold = false;
    }
  });

  it('deletes samples older than the retention and keeps the rest', async () => {
    const ds = app.services.database.dataSource;
    const old = new Date(Date.now() - 8 * 24 * 60 * 60_000);
    await ds.query('INSERT INTO metric_samples (series, at, value) VALUES ($1, $2, 1), ($3, $2, 2)', ['postgres_up', old, 'nodes_total']);
    const [{ n: before }] = (await ds.query('SELECT count(*)::int AS n FROM metric_samples WHERE at >= now() - interval \'1 day\'')) as { n: number }[];
    expect(await app.services.monitoring.deleteOldSamples()).to.equal(2);
    const [{ n: oldLeft }] = (await ds.query('SELECT count(*)::int AS n FROM metric_samples WHERE at < now() - interval \'7 days\'')) as { n: number }[];
    const [{ n: after }] = (await ds.query('SELECT count(*)::int AS n FROM metric_samples WHERE at >= now() - interval \'1 day\'')) as { n: number }[];
    expect(oldLeft).to.equal(0);
    expect(after).to.equal(before);
    expect(before).to.be.greaterThan(0);
  });

  it('keeps and serves the usage series of a node with the longest name Kubernetes allows', async () => {
    const node = `${'n'.repeat(63)}.${'n'.repeat(63)}.${'n'.repeat(63)}.${'n'.repeat(61)}`;
    const name = `node_cpu_millicores/${node}`;
    await app.services.database.dataSource.query('INSERT INTO metric_samples (series, at, value) VALUES ($1, now(), 250)', [name]);
    const res = await app.gql<{ metricSeries: { name: string; unit: string; points: { value: number }[] }[] }>(
      'query Long($names: [String!]!) { metricSeries(names: $names, range: HOUR) { name unit points { value } } }',
      { names: [name] },
      admin.headers,
    );
    expect(res.body.errors).to.equal(undefined);
    expect(res.body.data!.metricSeries[0]).to.deep.include({ name, unit: 'millicores' });
    expect(res.body.data!.metricSeries[0]!.points.at(-1)!.value).to.equal(250);
  });

  it('lists alerts to admins only, newest first, and refuses a bad limit', async () => {
    const res = await app.gql<{ alerts: { ruleId: string; state: string }[] }>('query All { alerts(limit: 10) { ruleId state firedAt } }', {}, admin.headers);
    expect(res.body.errors).to.equal(undefined);
    expect(res.body.data!.alerts.map((a) => a.ruleId)).to.deep.equal(['node-not-ready', 'node-not-ready', 'catalog-sync-failing', 'node-not-ready']);
    expect(res.body.data!.alerts.every((a) => a.state === 'RESOLVED')).to.equal(true);
    expect((await app.gql('query { alerts(limit: 0) { id } }', {}, admin.headers)).body.errors?.[0].extensions?.code).to.equal('BAD_USER_INPUT');
    expect((await app.gql('query { alerts { id } }', {}, user.headers)).body.errors?.[0].extensions?.code).to.equal('FORBIDDEN');
    expect((await app.gql('query { alertRules { id } }')).body.errors?.[0].extensions?.code).to.equal('UNAUTHENTICATED');
  });
});
