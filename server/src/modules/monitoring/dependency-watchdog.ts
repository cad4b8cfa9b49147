import type { Logger } from '../../platform/logging/logger';
import type { MonitoringService } from './monitoring.service';

/**
 * Runs on every replica, leader or not: probes PostgreSQL and the API server every interval and raises their
 * alerts (MonitoringService.checkDependencies). It cannot be a leader job: a replica that loses the API server
 * also loses its Lease, so no leader might run while the API server is down. A check never overlaps the previous one.
 */
export class DependencyWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly monitoring: MonitoringService,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    // The first check one interval after start: the app has just reached both dependencies to start at all.
    this.schedule(this.intervalMs);
  }

  private schedule(delay: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.monitoring
        .checkDependencies()
        .catch((err: Error) => this.logger.error({ err }, 'monitoring: dependency check failed'))
        .finally(() => this.schedule(this.intervalMs));
    }, delay);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
