import type { AppConfig, ConnectionsConfig } from '../../config/config';
import type { SessionLimits, SessionPolicies } from '../sessions/session-policies';
import type { SessionWorkloadConfig } from '../sessions/session.crd';
import { durationMs, SETTING_KEYS } from './settings.registry';

/**
 * Where the runtime settings take effect: pure mappings from effective values to what other modules read, and
 * live adapters over the SettingsService for them. Modules never import the settings service; the composition
 * root hands them these adapters.
 */

/** Reads one effective value (the settings service's `value`, or a candidate set's lookup in a dry run). */
export type SettingValues = <T>(key: string) => T;

/** The session workload configuration with the routing, storage and egress settings applied. */
export function workloadFrom(base: SessionWorkloadConfig, value: SettingValues): SessionWorkloadConfig {
  const text = (key: string) => value<string>(key) || undefined;
  return {
    ...base,
    ingress: {
      mode: value<'none' | 'host' | 'path'>(SETTING_KEYS.ROUTING_MODE),
      domain: text(SETTING_KEYS.ROUTING_APPS_DOMAIN),
      host: text(SETTING_KEYS.ROUTING_HOST),
      className: text(SETTING_KEYS.ROUTING_INGRESS_CLASS),
      tlsSecret: text(SETTING_KEYS.ROUTING_TLS_SECRET),
    },
    home: { size: value<string>(SETTING_KEYS.STORAGE_HOME_SIZE), storageClass: text(SETTING_KEYS.STORAGE_CLASS) },
    internetEgress: value<boolean>(SETTING_KEYS.FEATURE_INTERNET_EGRESS),
  };
}

/** The rules for new sessions. */
export function limitsFrom(value: SettingValues): SessionLimits {
  return {
    defaultCpu: value<number>(SETTING_KEYS.RESOURCES_DEFAULT_CPU),
    defaultMemory: value<number>(SETTING_KEYS.RESOURCES_DEFAULT_MEMORY),
    maxCpu: value<number>(SETTING_KEYS.RESOURCES_MAX_CPU),
    maxMemory: value<number>(SETTING_KEYS.RESOURCES_MAX_MEMORY),
    maxSessionDuration: value<string>(SETTING_KEYS.SESSIONS_MAX_DURATION),
  };
}

/** The workload configuration of the server configuration alone (what the runtime settings start from). */
export function baseWorkload(config: AppConfig): SessionWorkloadConfig {
  const s = config.sessions;
  return {
    ingress: s.ingress,
    home: s.home,
    ...(s.nodeSelector ? { nodeSelector: s.nodeSelector } : {}),
    ...(s.networkPolicy ? { networkPolicy: s.networkPolicy } : {}),
    ...(s.throughGateway ? { throughGateway: true } : {}),
  };
}

/** What the settings service offers the adapters. */
export interface SettingsSource {
  value<T>(key: string): T;
  onChanged(listener: () => void): void;
}

export function sessionPolicies(settings: SettingsSource): SessionPolicies {
  const value: SettingValues = (key) => settings.value(key);
  return {
    workload: (base) => workloadFrom(base, value),
    limits: () => limitsFrom(value),
    onChange: (listener) => settings.onChanged(listener),
  };
}

/** A duration setting in milliseconds as it is now, parsed again only when its text changes (read per session of a page). */
function liveDuration(settings: SettingsSource, key: string): () => number {
  let text: string | undefined;
  let ms = 0;
  return () => {
    const now = settings.value<string>(key);
    if (now !== text) {
      ms = durationMs(now);
      text = now;
    }
    return ms;
  };
}

/**
 * The connections configuration whose idle timeout and heartbeat interval follow the settings: the connection
 * service and the hibernation timer read these fields at each use.
 */
export function liveConnectionsConfig(base: ConnectionsConfig, settings: SettingsSource): ConnectionsConfig {
  return Object.defineProperties(
    { ...base },
    {
      defaultIdleTimeoutMs: { get: liveDuration(settings, SETTING_KEYS.SESSIONS_IDLE_TIMEOUT), enumerable: true },
      heartbeatIntervalMs: { get: liveDuration(settings, SETTING_KEYS.SESSIONS_HEARTBEAT_INTERVAL), enumerable: true },
    },
  );
}

/** Feature flags as the modules they switch read them. */
export function featureFlags(settings: SettingsSource): { sharingAllowed: () => boolean; catalogBrowsingAllowed: () => boolean } {
  return {
    sharingAllowed: () => settings.value<boolean>(SETTING_KEYS.FEATURE_SHARING),
    catalogBrowsingAllowed: () => settings.value<boolean>(SETTING_KEYS.FEATURE_CATALOG),
  };
}
