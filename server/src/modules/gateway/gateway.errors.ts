/**
 * The gateway's refusals. A refused request gets the status and a fixed one-line text, nothing of the app and
 * nothing that tells which check failed (the reason is logged, never sent).
 */
export type RefusalStatus = 401 | 403 | 404;

export interface GatewayRefusal {
  status: RefusalStatus;
  /** For the log only. */
  reason: string;
}

export const REFUSAL_TEXT: Record<RefusalStatus, string> = {
  401: 'Unauthorized: open this session from StreamSpace.',
  403: 'Forbidden.',
  404: 'Not found.',
};

export function refused(status: RefusalStatus, reason: string): GatewayRefusal {
  return { status, reason };
}
