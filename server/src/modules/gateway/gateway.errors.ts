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

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page a browser gets when it opens a known session's address without access (a bookmark, an old tab, a
 * hibernated session): no app, no reason, one link to the session in the portal, which signs the user in,
 * checks access and offers to wake a hibernated session.
 */
export function refusalPage(status: RefusalStatus, portalSessionUrl: string): string {
  const href = escapeHtml(portalSessionUrl);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>StreamSpace session</title>
<style>body{font-family:system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;color:#1f2937}
main{max-width:28rem;text-align:center}a{display:inline-block;margin-top:1rem;padding:.6rem 1.2rem;border-radius:.4rem;background:#1565c0;color:#fff;text-decoration:none}</style>
</head><body><main>
<h1>${status === 401 ? 'Open this session from StreamSpace' : 'This session cannot be shown here'}</h1>
<p>Session addresses work only when opened from StreamSpace. Sign in there to open it; a hibernated session is woken for you if you may use it.</p>
<a href="${href}" target="_top" rel="noopener noreferrer" data-testid="open-in-streamspace">Open in StreamSpace</a>
</main></body></html>
`;
}
