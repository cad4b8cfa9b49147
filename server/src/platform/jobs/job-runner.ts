import type { Logger } from '../logging/logger';

/**
 * Background work that must run on exactly one replica: named periodic jobs (`*.job.ts`, each exporting a
 * JobDefinition with its interval taken from the configuration) and long-running controllers (watch-driven
 * loops such as the session reconciler). The runner starts them when this replica becomes leader and stops
 * them (aborting their signal) when it stops leading or shuts down.
 *
 * A job never overlaps itself: the next run is scheduled interval after the previous one finished.
 * A failing run is logged and retried at the next interval; it never stops the runner.
 */

export interface JobContext {
  signal: AbortSignal;
  logger: Logger;
}

export interface JobDefinition {
  /** Unique, kebab-case (the file name without .job.ts). */
  name: string;
  intervalMs: number;
  /** Run once immediately on becoming leader (default true). */
  runOnStart?: boolean;
  run(ctx: JobContext): Promise<void>;
}

export interface ControllerDefinition {
  name: string;
  /** Starts the controller; it must stop when `ctx.signal` aborts (the returned promise may resolve at once). */
  start(ctx: JobContext): Promise<void>;
  /** Awaited after the signal aborted: let in-flight work finish. */
  stop(): Promise<void>;
}

/** What the runner needs from leader election (LeaderElector, or `alwaysLeader` for single-replica setups). */
export interface Leadership {
  readonly isLeader: boolean;
  on(event: 'startedLeading' | 'stoppedLeading', listener: () => void): unknown;
  off(event: 'startedLeading' | 'stoppedLeading', listener: () => void): unknown;
}

export interface JobStats {
  runs: number;
  failures: number;
  lastRunAt: Date | null;
  lastError: string | null;
}

export class JobRunner {
  private readonly jobs = new Map<string, JobDefinition>();
  private readonly controllers = new Map<string, ControllerDefinition>();
  private readonly stats = new Map<string, JobStats>();
  private abort: AbortController | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private started = false;
  private readonly onStart = () => void this.activate();
  private readonly onStop = () => void this.deactivate();

  constructor(
    private readonly leadership: Leadership,
    private readonly logger: Logger,
    /** Told the outcome of every run (the job-runs metric). */
    private readonly onRun?: (job: string, outcome: 'success' | 'failure') => void,
  ) {}

  register(job: JobDefinition): this {
    if (this.jobs.has(job.name) || this.controllers.has(job.name)) throw new Error(`job ${job.name} is already registered`);
    if (!(job.intervalMs > 0)) throw new Error(`job ${job.name}: interval must be positive`);
    this.jobs.set(job.name, job);
    this.stats.set(job.name, { runs: 0, failures: 0, lastRunAt: null, lastError: null });
    if (this.abort) this.schedule(job, this.abort); // registered while leading: start it now
    return this;
  }

  registerController(controller: ControllerDefinition): this {
    if (this.jobs.has(controller.name) || this.controllers.has(controller.name)) throw new Error(`job ${controller.name} is already registered`);
    this.controllers.set(controller.name, controller);
    if (this.abort) this.startController(controller, this.abort);
    return this;
  }

  /** True while this replica runs the jobs (it is the leader). */
  get active(): boolean {
    return this.abort !== undefined;
  }

  jobStats(name: string): JobStats | undefined {
    const s = this.stats.get(name);
    return s ? { ...s } : undefined;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.leadership.on('startedLeading', this.onStart);
    this.leadership.on('stoppedLeading', this.onStop);
    if (this.leadership.isLeader) this.activate();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.leadership.off('startedLeading', this.onStart);
    this.leadership.off('stoppedLeading', this.onStop);
    await this.deactivate();
  }

  /** Runs a job now (on the leader only); resolves when that run finished. */
  async runNow(name: string): Promise<void> {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`unknown job ${name}`);
    if (!this.abort) throw new Error(`job ${name} runs only on the leader`);
    await this.runOnce(job, this.abort.signal);
  }

  private activate(): void {
    if (this.abort) return;
    const abort = new AbortController();
    this.abort = abort;
    this.logger.info({ jobs: [...this.jobs.keys()], controllers: [...this.controllers.keys()] }, 'job runner: starting (leader)');
    for (const controller of this.controllers.values()) this.startController(controller, abort);
    for (const job of this.jobs.values()) this.schedule(job, abort);
  }

  private schedule(job: JobDefinition, abort: AbortController, delay = job.runOnStart === false ? job.intervalMs : 0) {
    if (abort.signal.aborted) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.track(this.runOnce(job, abort.signal).finally(() => this.schedule(job, abort, job.intervalMs)));
    }, delay);
    this.timers.add(t);
  }

  private startController(controller: ControllerDefinition, abort: AbortController) {
    const log = this.logger.child({ controller: controller.name });
    this.track(controller.start({ signal: abort.signal, logger: log }).catch((err: Error) => log.error({ err }, 'controller failed to start')));
  }

  private async deactivate(): Promise<void> {
    const abort = this.abort;
    if (!abort) return;
    this.abort = undefined;
    abort.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.controllers.values()].map((c) => c.stop()));
    await Promise.allSettled([...this.inFlight]);
    this.logger.info('job runner: stopped');
  }

  private track(p: Promise<void>) {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async runOnce(job: JobDefinition, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const stats = this.stats.get(job.name)!;
    const log = this.logger.child({ job: job.name });
    try {
      await job.run({ signal, logger: log });
      stats.runs++;
      stats.lastRunAt = new Date();
      stats.lastError = null;
      this.onRun?.(job.name, 'success');
    } catch (err) {
      this.onRun?.(job.name, 'failure');
      stats.failures++;
      stats.lastError = (err as Error).message;
      if (!signal.aborted) log.error({ err }, 'job failed; retrying at the next interval');
    }
  }
}

/** Leadership for a deployment without a cluster or with leader election switched off: always the leader. */
export const alwaysLeader: Leadership = {
  isLeader: true,
  on: () => undefined,
  off: () => undefined,
};
