/**
 * How many replicas a running multi-user session wants, and when to change them (pure, no I/O); used by the
 * session-autoscaler job.
 */

export interface AutoscaleInput {
  activeConnections: number;
  minReplicas?: number;
  maxReplicas?: number;
  targetConnections?: number;
  currentReplicas: number;
  /** When the replicas last changed (null: never). */
  lastScaledAt: Date | null;
  cooldownMs: number;
  now: Date;
}

/** The wanted replicas of a running multi-user session: clamp(ceil(active / target), min, max), at least 1. */
export function desiredReplicas(i: Pick<AutoscaleInput, 'activeConnections' | 'minReplicas' | 'maxReplicas' | 'targetConnections'>): number {
  const target = Math.max(1, i.targetConnections ?? 1);
  const min = Math.max(1, i.minReplicas ?? 1);
  const max = Math.max(min, i.maxReplicas ?? Math.max(min, 1));
  return Math.min(max, Math.max(min, Math.ceil(i.activeConnections / target)));
}

/**
 * Whether to change the replicas now: scale up at once (users are waiting), scale down only once the
 * cool-down since the last change has passed, so a connection that comes and goes does not flap the pods.
 */
export function decideScale(i: AutoscaleInput): { replicas: number; change: boolean; waitUntil: Date | null; reason: string } {
  const want = desiredReplicas(i);
  if (want === i.currentReplicas) return { replicas: want, change: false, waitUntil: null, reason: 'at the desired replicas' };
  if (want > i.currentReplicas) return { replicas: want, change: true, waitUntil: null, reason: `scale up to ${want} for ${i.activeConnections} connections` };
  const allowedAt = i.lastScaledAt ? new Date(i.lastScaledAt.getTime() + i.cooldownMs) : i.now;
  if (i.now >= allowedAt) return { replicas: want, change: true, waitUntil: null, reason: `scale down to ${want} for ${i.activeConnections} connections` };
  return { replicas: i.currentReplicas, change: false, waitUntil: allowedAt, reason: `scale down to ${want} waits for the cool-down until ${allowedAt.toISOString()}` };
}
