/**
 * The work queue of a controller, as client-go's workqueue does it: keys are deduplicated while they wait, up to
 * `workers` keys are handled at once but never the same key twice at once (a key added while it is being handled
 * waits until that handling ends), and a failed key comes back after an exponential backoff (100 ms doubling up to
 * 30 s) until it succeeds. `addAfter` schedules a key for later (a deadline); the newest schedule of a key wins.
 * After the signal aborts, nothing new is taken.
 */
export class WorkQueue {
  private readonly waiting = new Set<string>();
  private readonly active = new Map<string, Promise<void>>();
  private readonly retries = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly options: {
      signal: AbortSignal;
      /** Handles one key; a rejection requeues it with backoff. */
      handle: (key: string) => Promise<void>;
      /** Told about each failure and when the key comes back. */
      onError: (key: string, err: unknown, retryInMs: number) => void;
      /** Keys handled at once (default 1). */
      workers?: number;
    },
  ) {}

  add(key: string): void {
    if (this.options.signal.aborted) return;
    this.waiting.add(key);
    this.pump();
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

  /** Keys waiting and keys being handled now (metrics, benchmarks). */
  get depth(): { waiting: number; active: number } {
    return { waiting: this.waiting.size, active: this.active.size };
  }

  /** Resolves once nothing waits or runs (tests). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops everything that waits and resolves when the keys being handled are done. */
  async stop(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.waiting.clear();
    await Promise.all(this.active.values());
  }

  private isIdle(): boolean {
    return this.active.size === 0 && (this.waiting.size === 0 || this.options.signal.aborted);
  }

  /** Starts handling waiting keys that are not being handled, up to the number of workers. */
  private pump(): void {
    const workers = Math.max(1, this.options.workers ?? 1);
    if (!this.options.signal.aborted) {
      for (const key of this.waiting) {
        if (this.active.size >= workers) break;
        if (this.active.has(key)) continue;
        this.waiting.delete(key);
        this.active.set(
          key,
          this.handle(key).finally(() => {
            this.active.delete(key);
            this.pump();
          }),
        );
      }
    }
    if (this.isIdle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async handle(key: string): Promise<void> {
    const { signal } = this.options;
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
