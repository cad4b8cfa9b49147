/**
 * The work queue of a controller, as client-go's workqueue does it: keys are deduplicated while they wait, handled
 * one at a time, and a failed key comes back after an exponential backoff (100 ms doubling up to 30 s) until it
 * succeeds. `addAfter` schedules a key for later (a deadline); the newest schedule of a key wins. After the signal
 * aborts, nothing new is taken.
 */
export class WorkQueue {
  private readonly waiting = new Set<string>();
  private readonly retries = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private processing: Promise<void> | undefined;

  constructor(
    private readonly options: {
      signal: AbortSignal;
      /** Handles one key; a rejection requeues it with backoff. */
      handle: (key: string) => Promise<void>;
      /** Told about each failure and when the key comes back. */
      onError: (key: string, err: unknown, retryInMs: number) => void;
    },
  ) {}

  add(key: string): void {
    if (this.options.signal.aborted) return;
    this.waiting.add(key);
    if (!this.processing) this.processing = this.drain().finally(() => (this.processing = undefined));
  }

  /** Adds `key` after `delayMs`, replacing an earlier schedule of it. */
  addAfter(key: string, delayMs: number): void {
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, Math.max(0, Math.min(delayMs, 2 ** 31 - 1)));
    this.timers.set(key, t);
  }

  /** Drops a key's backoff and schedule (its object is gone). */
  forget(key: string): void {
    this.retries.delete(key);
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.delete(key);
  }

  /** Resolves once nothing waits or runs (tests). */
  async idle(): Promise<void> {
    while (this.processing || this.waiting.size) await (this.processing ?? new Promise((r) => setImmediate(r)));
  }

  /** Drops everything that waits and resolves when the key being handled is done. */
  async stop(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.waiting.clear();
    await this.processing;
  }

  private async drain() {
    const { signal } = this.options;
    while (this.waiting.size && !signal.aborted) {
      const key = this.waiting.values().next().value as string;
      this.waiting.delete(key);
      try {
        await this.options.handle(key);
        this.retries.delete(key);
      } catch (err) {
        if (signal.aborted) return;
        const n = (this.retries.get(key) ?? 0) + 1;
        this.retries.set(key, n);
        const delay = Math.min(30_000, 100 * 2 ** Math.min(n, 9));
        this.options.onError(key, err, delay);
        this.addAfter(key, delay);
      }
    }
  }
}
