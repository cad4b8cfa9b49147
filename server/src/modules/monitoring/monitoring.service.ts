import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { MonitoringConfig } from '../../config/config';
import { AppError, ErrorCode, badInput, notFound } from '../../platform/graphql/errors';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService, AuditSource } from '../audit/audit.service';
import { alertMessage, DEFAULT_RULES, DEPENDENCY_RULES, transition } from './alert-rules';
import type { AlertRuleType, AlertType, MetricSeriesType, UpdateAlertRuleInput } from './dto/monitoring.types';
import type { MetricsSampler } from './metrics-sampler';
import { RANGES, seriesDefinition, type MetricRange } from './series';
import { AlertWebhooks, webhookHost, type AlertWebhookPayload } from './webhook';

/** Topic of alertChanged: an AlertType each time an alert fires, resolves or changes value. */
export const ALERT_CHANGED = 'ALERT_CHANGED';

const MAX_SERIES_PER_READ = 30;
const MAX_WEBHOOK_URL = 2048;

interface RuleRow {
  id: string;
  series: string;
  comparator: string;
  threshold: number;
  severity: string;
  enabled: boolean;
  description: string;
  webhook_url: string | null;
  state: string;
  last_value: number | null;
  last_evaluated_at: Date | null;
  updated_at: Date;
}

interface AlertRow {
  id: string;
  rule_id: string;
  state: string;
  severity: string;
  value: number;
  threshold: number;
  message: string;
  source: string;
  fired_at: Date;
  resolved_at: Date | null;
}

const toRule = (r: RuleRow): AlertRuleType =>
  ({
    id: r.id,
    series: r.series,
    comparator: r.comparator,
    threshold: r.threshold,
    severity: r.severity,
    enabled: r.enabled,
    description: r.description,
    webhookHost: webhookHost(r.webhook_url),
    state: r.state,
    lastValue: r.last_value,
    lastEvaluatedAt: r.last_evaluated_at,
    updatedAt: r.updated_at,
  }) as AlertRuleType;

const toAlert = (r: AlertRow): AlertType =>
  ({
    id: r.id,
    ruleId: r.rule_id,
    state: r.state,
    severity: r.severity,
    value: r.value,
    threshold: r.threshold,
    message: r.message,
    source: r.source,
    firedAt: r.fired_at,
    resolvedAt: r.resolved_at,
  }) as AlertType;

export interface DependencyProbes {
  postgres(): Promise<boolean>;
  /** Null without a cluster. */
  apiserver: (() => Promise<boolean>) | null;
}

export interface MonitoringServiceDeps {
  dataSource: DataSource;
  pubSub: AppPubSub;
  audit: AuditService;
  logger: Logger;
  config: MonitoringConfig;
  sampler: MetricsSampler;
  probes: DependencyProbes;
  /** This replica's name in the alerts it raises about its own dependencies. */
  identity: string;
  /** The clock (tests pass a fixed one). */
  now?: () => Date;
}

/** What one sample did (for the job's log and for tests). */
export interface SampleResult {
  at: Date;
  values: Map<string, number>;
  changed: AlertType[];
}

/** An open or just-resolved dependency alert of this replica, with whether the table has it yet. */
interface DependencyAlert {
  alert: AlertType;
  stored: 'none' | 'firing' | 'resolved';
}

/**
 * Sampled series, alert rules and alerts.
 *
 * The leader's `metrics-sampler` job calls `sample()`: it reads every series once, writes the values in one
 * statement, and evaluates the rules on them in one transaction (open or close an alert row, keep the rule's
 * state); the changes are then published (`alertChanged`) and POSTed to webhooks, after the commit and without
 * waiting. Every replica's watchdog calls `checkDependencies()`: the PostgreSQL and API-server rules must fire
 * while that dependency is down, when the leader may be gone (leadership needs the API server) and the tables
 * unreachable, so this replica keeps their state in memory, publishes and POSTs at once, and writes the alert
 * rows when PostgreSQL answers again.
 */
export class MonitoringService {
  readonly webhooks: AlertWebhooks;
  private readonly log: Logger;
  /** The dependency rules as last read (defaults until the table answers). */
  private dependencyRules = new Map<string, RuleRow>();
  private readonly dependencyAlerts = new Map<string, DependencyAlert>();

  constructor(private readonly deps: MonitoringServiceDeps) {
    this.log = deps.logger.child({ component: 'monitoring' });
    this.webhooks = new AlertWebhooks({ timeoutMs: deps.config.webhookTimeoutMs, logger: this.log });
    for (const d of DEFAULT_RULES.filter((r) => DEPENDENCY_RULES.has(r.id))) {
      this.dependencyRules.set(d.id, { ...d, enabled: true, webhook_url: null, state: 'ok', last_value: null, last_evaluated_at: null, updated_at: new Date(0) });
    }
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Inserts the shipped rules that are missing (never touches rules already there: admins may have tuned them). */
  async seedRules(): Promise<void> {
    for (const r of DEFAULT_RULES) {
      await this.deps.dataSource.query(
        `INSERT INTO alert_rules (id, series, comparator, threshold, severity, description) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
        [r.id, r.series, r.comparator, r.threshold, r.severity, r.description],
      );
    }
  }

  // ---- sampling (leader) ---------------------------------------------------------------------------

  /** Reads every series once, stores the values and evaluates the rules on them. */
  async sample(): Promise<SampleResult> {
    const at = this.now();
    const [postgres, apiserver] = await Promise.all([this.deps.probes.postgres(), this.deps.probes.apiserver?.() ?? Promise.resolve(false)]);
    const values = await this.deps.sampler.read(at.getTime(), { postgres, apiserver });
    if (!postgres) return { at, values, changed: [] }; // nowhere to store it; the watchdog raises the alert
    const names = [...values.keys()];
    await this.deps.dataSource.query(
      'INSERT INTO metric_samples (series, at, value) SELECT unnest($1::varchar[]), $2, unnest($3::float8[]) ON CONFLICT (series, at) DO UPDATE SET value = EXCLUDED.value',
      [names, at, names.map((n) => values.get(n)!)],
    );
    const changed = await this.evaluate(at, values);
    return { at, values, changed };
  }

  private async evaluate(at: Date, values: Map<string, number>): Promise<AlertType[]> {
    const events: { alert: AlertType; webhook: string | null; fired: boolean }[] = [];
    await this.deps.dataSource.transaction(async (m) => {
      const rules = (await m.query('SELECT * FROM alert_rules ORDER BY id FOR UPDATE')) as RuleRow[];
      for (const rule of rules) {
        if (DEPENDENCY_RULES.has(rule.id)) continue;
        const value = values.get(rule.series);
        const change = transition(rule, rule.state === 'firing' ? 'firing' : 'ok', value);
        if (change === 'fired') {
          const [row] = (await m.query(
            `INSERT INTO alerts (rule_id, state, severity, value, threshold, message, source, fired_at) VALUES ($1, 'firing', $2, $3, $4, $5, 'leader', $6) RETURNING *`,
            [rule.id, rule.severity, value, rule.threshold, alertMessage(rule, value!), at],
          )) as AlertRow[];
          events.push({ alert: toAlert(row), webhook: rule.webhook_url, fired: true });
        } else if (change === 'resolved') {
          const rows = (await m.query(
            `UPDATE alerts SET state = 'resolved', resolved_at = $2, value = COALESCE($3, value) WHERE rule_id = $1 AND state = 'firing' AND source = 'leader' RETURNING *`,
            [rule.id, at, value ?? null],
          )) as [AlertRow[], number];
          for (const row of rows[0]) events.push({ alert: toAlert(row), webhook: rule.webhook_url, fired: false });
        } else if (rule.state === 'firing' && value !== undefined) {
          await m.query(`UPDATE alerts SET value = $2 WHERE rule_id = $1 AND state = 'firing' AND source = 'leader'`, [rule.id, value]);
        }
        const state = change === 'fired' ? 'firing' : change === 'resolved' ? 'ok' : rule.state;
        await m.query('UPDATE alert_rules SET state = $2, last_value = $3, last_evaluated_at = $4 WHERE id = $1', [rule.id, state, value ?? null, at]);
      }
    });
    for (const e of events) this.announce(e.alert, e.webhook);
    return events.map((e) => e.alert);
  }

  /** Publishes a change and POSTs it to the rule's webhook, else the global one (never awaited). */
  private announce(alert: AlertType, ruleWebhook: string | null) {
    this.log.info({ rule: alert.ruleId, state: alert.state, value: alert.value, source: alert.source }, `alert ${alert.state}`);
    this.deps.pubSub.publish(ALERT_CHANGED, alert);
    const url = ruleWebhook ?? this.deps.config.webhookUrl;
    if (!url) return;
    const payload: AlertWebhookPayload = {
      event: alert.state === 'firing' ? 'alert.firing' : 'alert.resolved',
      alert: { ...alert, firedAt: alert.firedAt.toISOString(), resolvedAt: alert.resolvedAt?.toISOString() ?? null },
    };
    this.webhooks.send(url, payload);
  }

  /** Deletes samples older than the retention; answers how many went. */
  async deleteOldSamples(): Promise<number> {
    const before = new Date(this.now().getTime() - this.deps.config.retentionMs);
    const [, count] = (await this.deps.dataSource.query('DELETE FROM metric_samples WHERE at < $1', [before])) as [unknown, number];
    return count;
  }

  // ---- dependencies (every replica) ----------------------------------------------------------------

  /**
   * Probes PostgreSQL and the API server from this replica and evaluates their rules in memory; the table is only
   * written (now or once PostgreSQL answers again) after the change was announced.
   */
  checkDependencies(): Promise<AlertType[]> {
    // One check at a time (the watchdog's and a test's or an admin's): the in-memory state is not shared safely otherwise.
    const run = this.dependencyChain.then(() => this.checkDependenciesNow());
    this.dependencyChain = run.catch(() => undefined);
    return run;
  }

  private dependencyChain: Promise<unknown> = Promise.resolve();

  private async checkDependenciesNow(): Promise<AlertType[]> {
    const at = this.now();
    const postgres = await this.deps.probes.postgres();
    const apiserver = this.deps.probes.apiserver ? await this.deps.probes.apiserver() : undefined;
    if (postgres) await this.refreshDependencyRules();
    const changed: AlertType[] = [];
    const verdicts: [string, number | undefined][] = [
      ['postgres-unreachable', postgres ? 1 : 0],
      ['apiserver-unreachable', apiserver === undefined ? undefined : apiserver ? 1 : 0],
    ];
    for (const [ruleId, value] of verdicts) {
      const rule = this.dependencyRules.get(ruleId);
      if (!rule) continue;
      const open = this.dependencyAlerts.get(ruleId);
      const state = open && open.alert.state === 'firing' ? 'firing' : 'ok';
      const change = transition(rule, state, value);
      if (change === 'fired') {
        const alert = {
          id: randomUUID(),
          ruleId,
          state: 'firing',
          severity: rule.severity,
          value: value!,
          threshold: rule.threshold,
          message: alertMessage(rule, value!),
          source: this.deps.identity,
          firedAt: at,
          resolvedAt: null,
        } as AlertType;
        this.dependencyAlerts.set(ruleId, { alert, stored: 'none' });
        changed.push(alert);
        this.announce(alert, rule.webhook_url);
      } else if (change === 'resolved' && open) {
        open.alert = { ...open.alert, state: 'resolved', resolvedAt: at, ...(value !== undefined ? { value } : {}) } as AlertType;
        changed.push(open.alert);
        this.announce(open.alert, rule.webhook_url);
      }
    }
    if (postgres) await this.storeDependencyAlerts(at, { postgres, apiserver });
    return changed;
  }

  private async refreshDependencyRules() {
    try {
      const rows = (await this.deps.dataSource.query('SELECT * FROM alert_rules WHERE id = ANY($1)', [[...DEPENDENCY_RULES]])) as RuleRow[];
      for (const row of rows) this.dependencyRules.set(row.id, row);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'monitoring: could not read the dependency rules; keeping the last ones');
    }
  }

  /** Writes this replica's dependency alerts the table does not have yet, and the rules' verdicts. */
  private async storeDependencyAlerts(at: Date, probes: { postgres: boolean; apiserver: boolean | undefined }) {
    try {
      for (const [ruleId, entry] of this.dependencyAlerts) {
        const a = entry.alert;
        if (entry.stored === 'none') {
          await this.deps.dataSource.query(
            `INSERT INTO alerts (id, rule_id, state, severity, value, threshold, message, source, fired_at, resolved_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT DO NOTHING`,
            [a.id, ruleId, a.state, a.severity, a.value, a.threshold, a.message, a.source, a.firedAt, a.resolvedAt],
          );
        } else if (entry.stored === 'firing' && a.state === 'resolved') {
          await this.deps.dataSource.query(`UPDATE alerts SET state = 'resolved', resolved_at = $2, value = $3 WHERE id = $1`, [a.id, a.resolvedAt, a.value]);
        }
        entry.stored = a.state === 'firing' ? 'firing' : 'resolved';
        if (a.state === 'resolved') this.dependencyAlerts.delete(ruleId);
      }
      const verdicts: [string, number | undefined][] = [
        ['postgres-unreachable', probes.postgres ? 1 : 0],
        ['apiserver-unreachable', probes.apiserver === undefined ? undefined : probes.apiserver ? 1 : 0],
      ];
      for (const [ruleId, value] of verdicts) {
        const firing = this.dependencyAlerts.get(ruleId)?.alert.state === 'firing';
        await this.deps.dataSource.query('UPDATE alert_rules SET state = $2, last_value = $3, last_evaluated_at = $4 WHERE id = $1', [ruleId, firing ? 'firing' : 'ok', value ?? null, at]);
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'monitoring: could not store dependency alerts yet; retrying at the next check');
    }
  }

  // ---- reads and changes (API) ---------------------------------------------------------------------

  async series(names: string[], range: MetricRange): Promise<MetricSeriesType[]> {
    const unique = [...new Set(names)];
    if (unique.length === 0 || unique.length > MAX_SERIES_PER_READ) throw badInput(`name between 1 and ${MAX_SERIES_PER_READ} series`, { field: 'names' });
    const unknown = unique.filter((n) => !seriesDefinition(n));
    if (unknown.length) throw badInput(`unknown series: ${unknown.slice(0, 5).join(', ')}`, { field: 'names', reason: 'UNKNOWN_SERIES', unknown: unknown.slice(0, 5) });
    const { spanMs, bucketMs } = RANGES[range];
    const since = new Date(this.now().getTime() - spanMs);
    const rows = (await this.deps.dataSource.query(
      `SELECT series, to_timestamp(floor(extract(epoch FROM at) * 1000 / $3) * $3 / 1000) AS bucket, avg(value) AS value
         FROM metric_samples WHERE series = ANY($1) AND at >= $2
        GROUP BY series, bucket ORDER BY series, bucket`,
      [unique, since, bucketMs],
    )) as { series: string; bucket: Date; value: number }[];
    return unique.map((name) => {
      const def = seriesDefinition(name)!;
      return {
        name,
        kind: def.kind,
        unit: def.unit,
        description: def.description,
        points: rows.filter((r) => r.series === name).map((r) => ({ at: r.bucket, value: Number(r.value) })),
      } as MetricSeriesType;
    });
  }

  async rules(): Promise<AlertRuleType[]> {
    return ((await this.deps.dataSource.query('SELECT * FROM alert_rules ORDER BY id')) as RuleRow[]).map(toRule);
  }

  async alerts(options: { firingOnly: boolean; limit: number }): Promise<AlertType[]> {
    if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > 500) throw badInput('limit must be between 1 and 500', { field: 'limit' });
    const rows = (await this.deps.dataSource.query(
      `SELECT * FROM alerts ${options.firingOnly ? "WHERE state = 'firing'" : ''} ORDER BY fired_at DESC, id LIMIT $1`,
      [options.limit],
    )) as AlertRow[];
    return rows.map(toAlert);
  }

  /** Changes a rule (threshold, on/off, severity, its own webhook); audited in the same transaction. Takes effect at the next sample. */
  async updateRule(id: string, input: UpdateAlertRuleInput, source: AuditSource): Promise<AlertRuleType> {
    if (input.threshold !== undefined && input.threshold !== null && !Number.isFinite(input.threshold)) throw badInput('threshold must be a finite number', { field: 'threshold' });
    let webhook: string | null | undefined;
    if (input.webhookUrl !== undefined && input.webhookUrl !== null) webhook = input.webhookUrl.trim() === '' ? null : validWebhookUrl(input.webhookUrl.trim());
    return this.deps.dataSource.transaction(async (m: EntityManager) => {
      const [before] = (await m.query('SELECT * FROM alert_rules WHERE id = $1 FOR UPDATE', [id])) as RuleRow[];
      if (!before) throw notFound('Alert rule', id);
      const next = {
        threshold: input.threshold ?? before.threshold,
        enabled: input.enabled ?? before.enabled,
        severity: input.severity ?? before.severity,
        webhook_url: webhook === undefined ? before.webhook_url : webhook,
      };
      const [rows] = (await m.query(
        'UPDATE alert_rules SET threshold = $2, enabled = $3, severity = $4, webhook_url = $5, updated_at = now() WHERE id = $1 RETURNING *',
        [id, next.threshold, next.enabled, next.severity, next.webhook_url],
      )) as [RuleRow[], number];
      const updated = rows[0];
      const changes: Record<string, unknown> = {};
      if (next.threshold !== before.threshold) changes.threshold = { from: before.threshold, to: next.threshold };
      if (next.enabled !== before.enabled) changes.enabled = { from: before.enabled, to: next.enabled };
      if (next.severity !== before.severity) changes.severity = { from: before.severity, to: next.severity };
      if (next.webhook_url !== before.webhook_url) changes.webhook = { from: webhookHost(before.webhook_url), to: webhookHost(next.webhook_url) };
      await this.deps.audit.record({ action: 'alert-rule.update', resourceType: 'alert-rule', resourceId: id, changes, source }, m);
      if (DEPENDENCY_RULES.has(id)) this.dependencyRules.set(id, updated);
      return toRule(updated);
    });
  }
}

function validWebhookUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badInput('webhookUrl must be an http or https URL', { field: 'webhookUrl' });
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || text.length > MAX_WEBHOOK_URL || url.username || url.password) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, 'webhookUrl must be an http or https URL without credentials, at most 2048 characters', { field: 'webhookUrl' });
  }
  return url.toString();
}
