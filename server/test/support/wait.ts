/**
 * Polls `condition` until it holds (tests use no fixed sleeps); fails with `what` after `timeoutMs` (default 60 s).
 * To prove that something did NOT happen, wait for a later event instead (or use a fixed clock), never for time.
 */
export async function waitUntil(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}
