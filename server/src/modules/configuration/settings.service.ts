import { randomUUID } from 'node:crypto';
import { EventEmitter, on } from 'node:events';
import type { DataSource } from 'typeorm';
import type { AppConfig, QuotaLimits } from '../../config/config';
import { endingWithSource, type AppPubSub } from '../../platform/graphql/pubsub';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService, AuditSource } from '../audit/audit.service';
import { ConfigurationEntity } from './configuration.entity';
import { invalidSettingValue, unknownSetting } from './configuration.errors';
import { SettingSource, type SettingType } from './dto/setting.type';
import { SETTING_KEYS, SETTINGS, settingDefinition, type SettingDefinition } from './settings.registry';

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
  /** 'loaded' after each successful read of the table (live subscribers compare what they sent last). */
  private readonly events = new EventEmitter().setMaxListeners(0);
  /** How many times the table was read (tests check that reads are served from memory). */
  loads = 0;

  constructor(private readonly deps: SettingsServiceDeps) {
    this.log = deps.logger.child({ component: 'settings' });
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
      this.stored = next;
      this.events.emit('loaded');
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

  /** Validates and saves a value; audited in the same transaction. */
  async update(key: string, value: unknown, source: AuditSource): Promise<SettingType> {
    const def = settingDefinition(key);
    if (!def) throw unknownSetting(key);
    const parsed = def.parse(value);
    if (parsed === null) throw invalidSettingValue(def);
    await this.deps.dataSource.transaction(async (manager) => {
      const repo = manager.getRepository(ConfigurationEntity);
      const current = await repo.findOne({ where: { key }, lock: { mode: 'pessimistic_write' } });
      await manager
        .createQueryBuilder()
        .insert()
        .into(ConfigurationEntity)
        .values({ key, value: parsed, secret: false, updatedBy: source.caller?.username?.slice(0, 63) ?? null, updatedAt: () => 'now()' })
        .orUpdate(['value', 'secret', 'updated_by', 'updated_at'], ['key'])
        .execute();
      await this.deps.audit.record(
        {
          action: 'setting.update',
          resourceType: 'setting',
          resourceId: key,
          changes: { before: this.snapshot(def, current), after: { value: parsed, source: SettingSource.DATABASE } },
          source,
        },
        manager,
      );
    });
    return this.changed(key);
  }

  /** Removes the saved value, so the default applies again; audited in the same transaction. */
  async reset(key: string, source: AuditSource): Promise<SettingType> {
    const def = settingDefinition(key);
    if (!def) throw unknownSetting(key);
    await this.deps.dataSource.transaction(async (manager) => {
      const repo = manager.getRepository(ConfigurationEntity);
      const current = await repo.findOne({ where: { key }, lock: { mode: 'pessimistic_write' } });
      if (current) await repo.delete({ key });
      await this.deps.audit.record(
        {
          action: 'setting.reset',
          resourceType: 'setting',
          resourceId: key,
          changes: { before: this.snapshot(def, current), after: { value: def.defaultFrom(this.deps.config), source: SettingSource.ENVIRONMENT } },
          source,
        },
        manager,
      );
    });
    return this.changed(key);
  }

  private async changed(key: string): Promise<SettingType> {
    await this.invalidate();
    this.deps.pubSub.publish(SETTINGS_CHANGED, { origin: this.instanceId, key } satisfies SettingsChanged);
    return this.get(key);
  }

  private snapshot(def: SettingDefinition, row: ConfigurationEntity | null): { value: unknown; source: SettingSource } {
    const saved = row ? def.parse(row.value) : null;
    return saved !== null ? { value: saved, source: SettingSource.DATABASE } : { value: def.defaultFrom(this.deps.config), source: SettingSource.ENVIRONMENT };
  }

  private describe(def: SettingDefinition): SettingType {
    const saved = this.stored.get(def.key);
    const defaultValue = def.defaultFrom(this.deps.config);
    return {
      key: def.key,
      label: def.label,
      description: def.description,
      kind: def.kind,
      rule: def.rule,
      envVariable: def.envVariable,
      value: saved ? saved.value : defaultValue,
      defaultValue,
      source: saved ? SettingSource.DATABASE : SettingSource.ENVIRONMENT,
      updatedAt: saved?.updatedAt ?? null,
      updatedBy: saved?.updatedBy ?? null,
    };
  }
}
