import v8 from 'node:v8';

/** The V8 flag this process's heap runs with (see tuneHeap). */
export const NO_PRETENURING = '--no-allocation-site-pretenuring';

let tuned = false;

/**
 * Turns off V8's allocation-site pretenuring for this process (idempotent; decision 0036). V8 watches which code
 * sites make objects that survive a young-generation collection and, past a threshold, makes that site's objects
 * directly in the old generation from then on. In the server after converge (bursts of creates and reads while
 * collections ran) the driver's row sites had been tenured: every row array was born old, and the young strings and
 * dates it held survived each scavenge with it (nothing young is freed while an old object, dead or not, points to
 * it). The same loop of reads kept ~4 MB per scavenge in the server (6-10 ms pauses of its main thread, half of what
 * it allocated promoted) and ~0.05 MB in a fresh process or with this off (about 1 ms). Without pretenuring an
 * object is old only once it has survived, which a server's per-request data does not.
 */
export function tuneHeap(): void {
  if (tuned) return;
  tuned = true;
  v8.setFlagsFromString(NO_PRETENURING);
}
