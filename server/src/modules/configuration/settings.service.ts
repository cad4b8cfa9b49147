import { randomUUID } from 'node:crypto';
import { EventEmitter, on } from 'node:events';
import type { DataSource } from 'typeorm';
import type { AppConfig, QuotaLimits } from '../../config/config';
import { endingWithSource, type AppPubSub } from '../../platform/graphql/pubsub';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService, AuditSource } from '../audit/audit.service';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../platform/graphql/pagination';
import { ConfigurationVersionEntity, type StoredSettingChange } from './configuration-version.entity';
import { ConfigurationEntity } from './configuration.entity';
import { invalidSettings, invalidSettingValue, unknownSetting, unknownVersion } from './configuration.errors';
import { SettingSource, type SettingType } from './dto/setting.type';
import type { SettingChangeInput, SettingDiffType, SettingsApplyResultType, SettingsPreviewType, SettingVersionType } from './dto/settings-change.type';
import { SettingsDryRun, type DryRunObject, type DryRunResult } from './settings-dry-run';
import { baseWorkload, limitsFrom, workloadFrom, type SettingValues } from './settings-effects';
import { crossCheck, SETTING_KEYS, SETTINGS, settingDefinition, type SettingDefinition, type SettingProblem } from './settings.registry';

/** Pub/sub topic: a setting changed on some replica; every replica reloads its cache. */
export const SETTINGS_CHANGED = 'SETTINGS_CHANGED';

interface SettingsChanged {
  /** The replica that saved it (it already reloaded). */
  origin: string;
  key: string;
}

interface Stored {
  value: unknown;
  updatedAt: Date;
  updatedBy: string | null;
}

export interface SettingsServiceDeps {
  dataSource: DataSource;
  audit: AuditService;
  pubSub: AppPubSub;
  config: AppConfig;
  logger: Logger;
  /** The sessions' namespace on the cluster, for the dry run (null: no cluster). */
  kube?: StreamSpaceApi | null;
}

/** A change asks to remove the saved value (the default applies again). */
const RESET = Symbol('reset');
type Wanted = Map<string, unknown>;

/** Most settings one request may change (each at most once). */
const MAX_CHANGES = 100;
/** Serializes every write of the settings across replicas (pg_advisory_xact_lock key). */
const SETTINGS_LOCK = 7_302_014_221;
const MASK = '********';

interface Checked {
  errors: SettingProblem[];
  /** Per key changed: the parsed value to save, or RESET. */
  wanted: Wanted;
}

/**
 * Runtime settings (settings.registry.ts): defaults from the configuration, overrides from the
 * `configuration` table. Reads come from an in-memory copy of the table (a handful of rows), so the
 * quota check and the portal's announcement cost no query. A write reloads the copy once its
 * transaction commits and publishes SETTINGS_CHANGED, which reaches the other replicas through the
 * PostgreSQL LISTEN/NOTIFY bridge, and they reload theirs. Loads run one after another, so a load that
 * starts after a commit always sees it.
 */
export class SettingsService {
  private readonly instanceId = randomUUID();
  private readonly log: Logger;
  private stored = new Map<string, Stored>();
  private loading: Promise<void> = Promise.resolve();
  private subscription: AsyncIterator<unknown> | undefined;
  private readonly dryRunner: SettingsDryRun;
  /** 'loaded' after each successful read of the table (live subscribers compare what they sent last); 'changed' when a value differs. */
  private readonly events = new EventEmitter().setMaxListeners(0);
  /** How many times the table was read (tests check that reads are served from memory). */
  loads = 0;

  constructor(private readonly deps: SettingsServiceDeps) {
    this.log = deps.logger.child({ component: 'settings' });
    this.dryRunner = new SettingsDryRun(deps.kube ?? null);
  }

  /** Calls `listener` each time a saved value changed (here or on another replica), once the new values are in memory. */
  onChanged(listener: () => void): void {
    this.events.on('changed', listener);
  }

  /** Reads the table once and starts listening for changes made elsewhere. */
  async start(): Promise<void> {
    await this.invalidate();
    const iterator = this.deps.pubSub.subscribeTopic<SettingsChanged | undefined>(SETTINGS_CHANGED);
    this.subscription = iterator;
    void (async () => {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        const event = next.value;
        if (event?.origin === this.instanceId) continue;
        this.log.debug({ key: event?.key }, 'settings: changed on another replica; reloading');
        void this.invalidate();
      }
    })().catch((err: Error) => this.log.error({ err }, 'settings: change listener failed'));
  }

  async stop(): Promise<void> {
    await this.subscription?.return?.();
    this.subscription = undefined;
  }

  /** Drops the in-memory copy and reads the table again; resolves once the new copy is in place. */
  invalidate(): Promise<void> {
    const load = () => this.load();
    this.loading = this.loading.then(load, load);
    return this.loading;
  }

  /** Resolves when no reload is pending (call before a read that must see a change just announced). */
  fresh(): Promise<void> {
    return this.loading;
  }

  private async load(): Promise<void> {
    try {
      const rows = await this.deps.dataSource.getRepository(ConfigurationEntity).find();
      this.loads++;
      const next = new Map<string, Stored>();
      for (const row of rows) {
        const def = settingDefinition(row.key);
        if (!def) continue; // a key this version does not know (a newer replica's, or a removed one)
        const value = def.parse(row.value);
        if (value === null) {
          this.log.warn({ key: row.key }, `settings: stored value of ${row.key} is not ${def.rule}; using the default`);
          continue;
        }
        next.set(row.key, { value, updatedAt: row.updatedAt, updatedBy: row.updatedBy });
      }
      const changed = fingerprint(this.stored) !== fingerprint(next);
      this.stored = next;
      this.events.emit('loaded');
      if (changed) this.events.emit('changed');
    } catch (err) {
      this.log.error({ err }, 'settings: could not read the configuration table; keeping the values in memory');
    }
  }

  /** The effective value of a setting, from memory. */
  value<T>(key: string): T {
    const def = settingDefinition(key);
    if (!def) throw unknownSetting(key);
    return (this.stored.has(key) ? this.stored.get(key)!.value : def.defaultFrom(this.deps.config)) as T;
  }

  /** Default quotas for users without their own (QuotaService reads these). */
  quotaDefaults(): QuotaLimits {
    return {
      maxSessions: this.value<number>(SETTING_KEYS.QUOTA_MAX_SESSIONS),
      maxRunningSessions: this.value<number>(SETTING_KEYS.QUOTA_MAX_RUNNING_SESSIONS),
      cpu: this.value<number>(SETTING_KEYS.QUOTA_CPU),
      memory: this.value<number>(SETTING_KEYS.QUOTA_MEMORY),
    };
  }

  /** The portal's announcement, or null when there is none. */
  async announcement(): Promise<string | null> {
    await this.fresh();
    return this.value<string>(SETTING_KEYS.PORTAL_ANNOUNCEMENT) || null;
  }

  /**
   * The announcement now, then each time it changes (on this replica or another): for `announcementChanged`.
   * It listens before it reads, so a change in between is not lost; one read of the table serves every subscriber.
   */
  announcements(): AsyncGenerator<string | null> {
    const stop = new AbortController();
    const loads = on(this.events, 'loaded', { signal: stop.signal });
    // A client's complete aborts the wait for the next load at once (see endingWithSource).
    return endingWithSource(this.announcementStream(stop, loads), () => stop.abort());
  }

  private async *announcementStream(stop: AbortController, loads: AsyncIterable<unknown>): AsyncGenerator<string | null> {
    try {
      let last = await this.announcement();
      yield last;
      for await (const _ of loads) {
        const now = await this.announcement();
        if (now === last) continue;
        last = now;
        yield now;
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    } finally {
      stop.abort();
    }
  }

  async list(): Promise<SettingType[]> {
    await this.fresh();
    return SETTINGS.map((def) => this.describe(def));
  }

  async get(key: string): Promise<SettingType> {
    const def = settingDefinition(key);
    if (!def) throw unknownSetting(key);
    await this.fresh();
    return this.describe(def);
  }

  /** Validates and saves one value (a version of its own); audited in the same transaction. */
  async update(key: string, value: unknown, source: AuditSource): Promise<SettingType> {
    const def = settingDefinition(key);
    if (!def) throw unknownSetting(key);
    const parsed = def.parse(value);
    if (parsed === null) throw invalidSettingValue(def);
    await this.commit('update', new Map([[key, parsed]]), source, {
      audit: (before) => ({
        action: 'setting.update',
        resourceId: key,
        changes: { before: this.masked(def, before.get(key)!), after: { value: this.mask(def, parsed), source: SettingSource.DATABASE } },
      }),
    });
    return this.changed(key);
  }

  /** Removes the saved value, so the default applies again (a version of its own); audited in the same transaction. */
  async reset(key: string, source: AuditSource): Promise<SettingType> {
    const def = settingDefinition(key);
    if (!def) throw unknownSetting(key);
    await this.commit('reset', new Map([[key, RESET]]), source, {
      audit: (before) => ({
        action: 'setting.reset',
        resourceId: key,
        changes: { before: this.masked(def, before.get(key)!), after: { value: this.mask(def, def.defaultFrom(this.deps.config)), source: this.defaultSource(def) } },
      }),
    });
    return this.changed(key);
  }

  /**
   * What `changes` would do, saving nothing: each value checked by its rule and the rules across settings, then a
   * sample session's objects built with the result and sent to the API server as a dry run, and the diff.
   */
  async preview(changes: readonly SettingChangeInput[]): Promise<SettingsPreviewType> {
    await this.fresh();
    const checked = this.check(changes);
    const diff = this.diff(this.currentStored(), checked.wanted);
    if (checked.errors.length) {
      return { valid: false, errors: checked.errors, changes: diff, dryRun: { ran: false, skippedReason: 'Some values break their rules; the dry run runs once they are fixed', objects: [] } };
    }
    const dryRun = await this.dryRun(checked.wanted);
    const errors = this.refusals(dryRun, checked.wanted);
    return { valid: errors.length === 0, errors, changes: diff, dryRun };
  }

  /**
   * Applies `changes` as one version, all or nothing: any value that breaks a rule, or a sample object the API
   * server refuses because of a changed setting, refuses the whole change (BAD_USER_INPUT with `fieldErrors`).
   */
  async apply(changes: readonly SettingChangeInput[], source: AuditSource): Promise<SettingsApplyResultType> {
    await this.fresh();
    const checked = this.check(changes);
    if (checked.errors.length) throw invalidSettings(checked.errors);
    return this.applyChecked('apply', checked.wanted, source, null);
  }

  /** Brings back the saved values as they were right after version `id`, as a new version (checked like apply). */
  async restore(id: number, source: AuditSource): Promise<SettingsApplyResultType> {
    const row = Number.isSafeInteger(id) && id > 0 ? await this.deps.dataSource.getRepository(ConfigurationVersionEntity).findOneBy({ id }) : null;
    if (!row) throw unknownVersion(id);
    await this.fresh();
    const wanted: Wanted = new Map();
    const errors: SettingProblem[] = [];
    for (const def of SETTINGS) {
      if (!(def.key in row.snapshot)) {
        wanted.set(def.key, RESET);
        continue;
      }
      const parsed = def.parse(row.snapshot[def.key]);
      if (parsed === null) errors.push({ key: def.key, message: `The value saved in version ${id} no longer follows the rule: must be ${def.rule}` });
      else wanted.set(def.key, parsed);
    }
    if (errors.length) throw invalidSettings(errors);
    const problems = crossCheck(this.effectiveWith(this.currentStored(), wanted), this.deps.config);
    if (problems.length) throw invalidSettings(problems);
    return this.applyChecked('restore', wanted, source, id);
  }

  /** Versions, newest first (keyset pages on the version number). */
  async versions(first: number | undefined, after: string | undefined): Promise<Connection<SettingVersionType>> {
    const size = pageSize(first);
    const repo = this.deps.dataSource.getRepository(ConfigurationVersionEntity);
    const qb = repo.createQueryBuilder('v').orderBy('v.id', 'DESC').take(size + 1);
    if (after) {
      const [id] = decodeCursor(after, 1);
      qb.where('v.id < :id', { id: Number(id) });
    }
    const [rows, totalCount] = await Promise.all([qb.getMany(), repo.count()]);
    return toConnection(rows.map((r) => this.toVersion(r)), size, totalCount, Boolean(after), (v) => [v.id]);
  }

  // ---- checks, dry run, diff --------------------------------------------------------------------

  /** Each change checked by its setting's rule, then the whole effective set by the rules across settings. */
  private check(changes: readonly SettingChangeInput[]): Checked {
    const errors: SettingProblem[] = [];
    const wanted: Wanted = new Map();
    if (changes.length > MAX_CHANGES) return { errors: [{ key: '*', message: `At most ${MAX_CHANGES} settings per change` }], wanted };
    for (const change of changes) {
      const key = String(change.key);
      const def = settingDefinition(key);
      if (!def) {
        errors.push({ key, message: `There is no setting "${key}"` });
      } else if (wanted.has(key)) {
        errors.push({ key, message: 'Changed twice in one request' });
      } else if (change.reset) {
        wanted.set(key, RESET);
      } else {
        const parsed = change.value === undefined || change.value === null ? null : def.parse(change.value);
        if (parsed === null) errors.push({ key, message: `Must be ${def.rule}` });
        else wanted.set(key, parsed);
      }
    }
    const broken = new Set(errors.map((e) => e.key));
    // Rules across settings are checked on what the valid part would give; a field already wrong is not blamed twice.
    for (const p of crossCheck(this.effectiveWith(this.currentStored(), wanted), this.deps.config)) if (!broken.has(p.key)) errors.push(p);
    return { errors, wanted };
  }

  private async dryRun(wanted: Wanted): Promise<DryRunResult> {
    const effective = this.effectiveWith(this.currentStored(), wanted);
    const value: SettingValues = <T>(key: string) => effective.get(key) as T;
    return this.dryRunner.run(workloadFrom(baseWorkload(this.deps.config), value), limitsFrom(value));
  }

  /**
   * Field errors for the objects the API server refused, each on the changed settings that shape that object. A
   * refusal no changed setting explains (the cluster already refuses the current values) does not block the change.
   */
  private refusals(dryRun: DryRunResult, wanted: Wanted): SettingProblem[] {
    const errors: SettingProblem[] = [];
    for (const obj of dryRun.objects) {
      if (obj.accepted) continue;
      for (const key of wanted.keys()) {
        if (settingDefinition(key)?.affects?.includes(obj.kind)) errors.push({ key, message: `The API server refused the sample ${obj.kind}: ${obj.message ?? 'no reason given'}` });
      }
    }
    return errors;
  }

  private async applyChecked(action: 'apply' | 'restore', wanted: Wanted, source: AuditSource, restoredFrom: number | null): Promise<SettingsApplyResultType> {
    const dryRun = await this.dryRun(wanted);
    const refused = this.refusals(dryRun, wanted);
    if (refused.length) throw invalidSettings(refused);
    const version = await this.commit(action, wanted, source, {
      restoredFrom,
      audit: (_before, diff, versionId) => ({
        action: `settings.${action}`,
        resourceId: versionId === null ? 'unchanged' : String(versionId),
        changes: { version: versionId, ...(restoredFrom !== null ? { restoredFrom } : {}), changes: diff },
      }),
    });
    await this.invalidate();
    this.deps.pubSub.publish(SETTINGS_CHANGED, { origin: this.instanceId, key: '*' } satisfies SettingsChanged);
    return { version: version && this.toVersion(version), dryRun: dryRun.objects };
  }

  /**
   * The one write path: under a lock shared by every replica, reads the saved values, checks the rules across
   * settings again on what they would become, writes the rows, the version (when anything changed, or always for a
   * restore) and the audit row, all in one transaction.
   */
  private async commit(
    action: string,
    wanted: Wanted,
    source: AuditSource,
    options: {
      restoredFrom?: number | null;
      audit: (before: Map<string, { value: unknown; source: SettingSource }>, diff: StoredSettingChange[], version: number | null) => { action: string; resourceId: string; changes: Record<string, unknown> };
    },
  ): Promise<ConfigurationVersionEntity | null> {
    const actor = source.caller?.username?.slice(0, 63) ?? null;
    return this.deps.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [SETTINGS_LOCK]);
      const rows = await manager.getRepository(ConfigurationEntity).find();
      const stored = new Map<string, unknown>();
      for (const row of rows) {
        const def = settingDefinition(row.key);
        const value = def ? def.parse(row.value) : null;
        if (def && value !== null) stored.set(row.key, value);
      }
      const problems = crossCheck(this.effectiveWith(stored, wanted), this.deps.config);
      if (problems.length) throw invalidSettings(problems);
      const before = new Map(SETTINGS.map((def) => [def.key, this.effectiveOf(def, stored)]));
      const diff = this.diff(stored, wanted).map((d) => ({ key: d.key, before: d.before, after: d.after, beforeSource: d.beforeSource, afterSource: d.afterSource }));

      for (const [key, value] of wanted) {
        if (value === RESET) {
          if (rows.some((r) => r.key === key)) await manager.getRepository(ConfigurationEntity).delete({ key });
          stored.delete(key);
          continue;
        }
        await manager
          .createQueryBuilder()
          .insert()
          .into(ConfigurationEntity)
          .values({ key, value: value as object, secret: settingDefinition(key)?.secret ?? false, updatedBy: actor, updatedAt: () => 'now()' })
          .orUpdate(['value', 'secret', 'updated_by', 'updated_at'], ['key'])
          .execute();
        stored.set(key, value);
      }

      let version: ConfigurationVersionEntity | null = null;
      if (diff.length || action === 'restore') {
        version = await manager.getRepository(ConfigurationVersionEntity).save(
          manager.getRepository(ConfigurationVersionEntity).create({
            actor,
            action,
            restoredFrom: options.restoredFrom ?? null,
            changes: diff,
            snapshot: Object.fromEntries(stored),
          }),
        );
      }
      const audit = options.audit(before, diff, version?.id ?? null);
      await this.deps.audit.record({ ...audit, resourceType: 'setting', source }, manager);
      return version;
    });
  }

  /** Saved values now (from memory). */
  private currentStored(): Map<string, unknown> {
    return new Map([...this.stored].map(([key, s]) => [key, s.value]));
  }

  /** Every setting's effective value if `wanted` were applied over `stored`. */
  private effectiveWith(stored: ReadonlyMap<string, unknown>, wanted: Wanted): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const def of SETTINGS) {
      const w = wanted.get(def.key);
      if (w === RESET) out.set(def.key, def.defaultFrom(this.deps.config));
      else if (wanted.has(def.key)) out.set(def.key, w);
      else out.set(def.key, this.effectiveOf(def, stored).value);
    }
    return out;
  }

  private effectiveOf(def: SettingDefinition, stored: ReadonlyMap<string, unknown>): { value: unknown; source: SettingSource } {
    return stored.has(def.key) ? { value: stored.get(def.key), source: SettingSource.DATABASE } : { value: def.defaultFrom(this.deps.config), source: this.defaultSource(def) };
  }

  /** The settings whose effective value or source `wanted` changes, secret values masked. */
  private diff(stored: ReadonlyMap<string, unknown>, wanted: Wanted): SettingDiffType[] {
    const out: SettingDiffType[] = [];
    for (const def of SETTINGS) {
      if (!wanted.has(def.key)) continue;
      const before = this.effectiveOf(def, stored);
      const w = wanted.get(def.key);
      const after = w === RESET ? { value: def.defaultFrom(this.deps.config), source: this.defaultSource(def) } : { value: w, source: SettingSource.DATABASE };
      if (JSON.stringify(before.value) === JSON.stringify(after.value) && before.source === after.source) continue;
      out.push({ key: def.key, label: def.label, before: this.mask(def, before.value), after: this.mask(def, after.value), beforeSource: before.source, afterSource: after.source });
    }
    return out;
  }

  private mask(def: SettingDefinition, value: unknown): unknown {
    return def.secret && value !== '' && value !== null && value !== undefined ? MASK : value;
  }

  private masked(def: SettingDefinition, v: { value: unknown; source: SettingSource }) {
    return { value: this.mask(def, v.value), source: v.source };
  }

  private defaultSource(def: SettingDefinition): SettingSource {
    const set = this.deps.config.environment;
    return !set || set.has(def.envVariable) ? SettingSource.ENVIRONMENT : SettingSource.DEFAULT;
  }

  private toVersion(row: ConfigurationVersionEntity): SettingVersionType {
    return {
      id: row.id,
      createdAt: row.createdAt,
      actor: row.actor,
      action: row.action,
      restoredFrom: row.restoredFrom,
      changes: row.changes.map((c) => ({
        key: c.key,
        label: settingDefinition(c.key)?.label ?? c.key,
        before: c.before,
        after: c.after,
        beforeSource: c.beforeSource as SettingSource,
        afterSource: c.afterSource as SettingSource,
      })),
    };
  }

  private async changed(key: string): Promise<SettingType> {
    await this.invalidate();
    this.deps.pubSub.publish(SETTINGS_CHANGED, { origin: this.instanceId, key } satisfies SettingsChanged);
    return this.get(key);
  }

  private describe(def: SettingDefinition): SettingType {
    const saved = this.stored.get(def.key);
    const defaultValue = def.defaultFrom(this.deps.config);
    const defaultSource = this.defaultSource(def);
    return {
      key: def.key,
      label: def.label,
      description: def.description,
      kind: def.kind,
      group: def.group,
      choices: def.choices ? [...def.choices] : null,
      rule: def.rule,
      envVariable: def.envVariable,
      value: this.mask(def, saved ? saved.value : defaultValue),
      defaultValue: this.mask(def, defaultValue),
      source: saved ? SettingSource.DATABASE : defaultSource,
      defaultSource,
      updatedAt: saved?.updatedAt ?? null,
      updatedBy: saved?.updatedBy ?? null,
    };
  }
}

/** A comparable text of the saved values (to tell whether a reload changed any). */
function fingerprint(stored: ReadonlyMap<string, Stored>): string {
  return JSON.stringify([...stored].map(([k, v]) => [k, v.value]).sort(([a], [b]) => String(a).localeCompare(String(b))));
}

export type { DryRunObject };
