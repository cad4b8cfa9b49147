import type { Logger } from '../logging/logger';

export interface CleanupStep {
  name: string;
  /** How long release() waits for this step before it goes on with the next one. */
  limitMs: number;
  run(): Promise<unknown> | unknown;
}

/**
 * Everything the application started, to be released in reverse order. The composition root pushes a step
 * as soon as a part has started, so a start-up failure at any later point releases exactly what is running,
 * and shutdown is the same list.
 *
 * Each step is logged and bounded: when a dependency is already gone (Ctrl-C reaches the embedded PostgreSQL
 * and the local cluster's processes too), a step that would wait for it gives up and the next one still runs,
 * so the process exits instead of hanging until the watchdog in main.ts.
 */
export class CleanupStack {
  private readonly steps: CleanupStep[] = [];
  private releasing: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  /** Releases `run` (after everything pushed later) when the stack is released. */
  push(name: string, run: () => Promise<unknown> | unknown, options: { limitMs?: number } = {}): void {
    if (this.releasing) throw new Error(`cleanup: "${name}" was started while the application is stopping`);
    this.steps.push({ name, run, limitMs: options.limitMs ?? 5000 });
  }

  /** Starts a part and pushes its release; nothing is pushed when `start` throws. */
  async start<T>(name: string, start: () => Promise<T> | T, release: (started: T) => Promise<unknown> | unknown, options: { limitMs?: number } = {}): Promise<T> {
    const started = await start();
    this.push(name, () => release(started), options);
    return started;
  }

  /** Names of the steps still to release, oldest first. */
  get pending(): string[] {
    return this.steps.map((s) => s.name);
  }

  /** Runs every step, newest first; calling it again returns the same promise. */
  release(): Promise<void> {
    return (this.releasing ??= (async () => {
      for (let step = this.steps.pop(); step; step = this.steps.pop()) await this.run(step);
    })());
  }

  private async run(step: CleanupStep): Promise<void> {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const outcome = await Promise.race([
        Promise.resolve()
          .then(() => step.run())
          .then(() => 'done' as const),
        new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), step.limitMs))),
      ]);
      if (outcome === 'timeout') this.logger.warn({ step: step.name, limitMs: step.limitMs }, 'shutdown step did not finish in time; going on');
    } catch (err) {
      this.logger.error({ err, step: step.name }, 'shutdown step failed');
    } finally {
      clearTimeout(timer);
    }
    this.logger.debug({ step: step.name, ms: Date.now() - started }, 'shutdown step done');
  }
}
