import { parseDurationMs } from '../../config/config';
import { AppError, ErrorCode } from '../../platform/graphql/errors';
import { parseQuantity } from '../templates/quantity';
import type { ResourceRequirements } from '../templates/template.crd';
import type { SessionWorkloadConfig } from './session.crd';

/**
 * What admins change at runtime about sessions (configuration/), read at each use so a change applies without a
 * restart: the workload shape the reconciler builds (routing, storage, egress), and the rules a new session must
 * follow (resource defaults and maximums, longest life). Sessions do not depend on where the values come from.
 */
export interface SessionPolicies {
  /** The workload configuration now: the server configuration with the runtime settings applied. */
  workload(base: SessionWorkloadConfig): SessionWorkloadConfig;
  /** Rules for new sessions. */
  limits(): SessionLimits;
  /** Calls `listener` after every change of the settings (the reconciler re-applies every session). */
  onChange(listener: () => void): void;
}

export interface SessionLimits {
  /** CPU cores a session requests when neither it nor its template sets resources (0: none). */
  defaultCpu: number;
  /** Bytes of memory a session requests when neither it nor its template sets resources (0: none). */
  defaultMemory: number;
  /** Most CPU cores one session may request or be limited to (0: no maximum). */
  maxCpu: number;
  /** Most bytes of memory one session may request or be limited to (0: no maximum). */
  maxMemory: number;
  /** Longest life of a session as a duration text such as 8h ('' for no limit). */
  maxSessionDuration: string;
}

/**
 * Applies the admin's rules to a new session's resources (requests and limits, base units as quantity strings):
 * the defaults when neither the session nor its template set any, then the per-session maximum, which refuses
 * (QUOTA_EXCEEDED, reason AboveSessionMaximum) a request or limit above it.
 */
export function applySessionLimits(effective: ResourceRequirements, limits: SessionLimits): ResourceRequirements {
  let out = effective;
  if (!effective.requests && !effective.limits) {
    const requests: Record<string, string> = {};
    if (limits.defaultCpu > 0) requests.cpu = `${Math.round(limits.defaultCpu * 1000)}m`;
    if (limits.defaultMemory > 0) requests.memory = String(Math.round(limits.defaultMemory));
    if (Object.keys(requests).length) out = { requests };
  }
  for (const field of ['requests', 'limits'] as const) {
    for (const resource of ['cpu', 'memory'] as const) {
      const max = resource === 'cpu' ? limits.maxCpu : limits.maxMemory;
      const value = parseQuantity(out[field]?.[resource]);
      if (max <= 0 || value === null || value <= max + 1e-9) continue;
      const show = (n: number) => (resource === 'cpu' ? `${Math.round(n * 1000) / 1000} CPU cores` : `${Math.round((n / 2 ** 30) * 100) / 100} GiB of memory`);
      throw new AppError(ErrorCode.QUOTA_EXCEEDED, `Resources above the per-session maximum: ${resource} ${field} of ${show(value)} > ${show(max)}`, {
        reason: 'AboveSessionMaximum',
        resource,
        field,
        requested: value,
        maximum: max,
      });
    }
  }
  return out;
}

/** Refuses (BAD_USER_INPUT) a maxSessionDuration longer than the admin's maximum; returns the one the session gets. */
export function sessionDuration(asked: string | undefined | null, limits: SessionLimits): string | undefined {
  if (!limits.maxSessionDuration) return asked ?? undefined;
  if (!asked) return limits.maxSessionDuration;
  if (parseDurationMs(asked) > parseDurationMs(limits.maxSessionDuration)) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `Invalid session settings: maxSessionDuration: must be at most ${limits.maxSessionDuration}`, {
      errors: [`maxSessionDuration: must be at most ${limits.maxSessionDuration}`],
    });
  }
  return asked;
}
