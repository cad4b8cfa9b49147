import type { Logger } from '../../platform/logging/logger';

/** What a webhook receives: one alert that fired or resolved. */
export interface AlertWebhookPayload {
  event: 'alert.firing' | 'alert.resolved';
  alert: {
    id: string;
    ruleId: string;
    state: string;
    severity: string;
    value: number;
    threshold: number;
    message: string;
    source: string;
    firedAt: string;
    resolvedAt: string | null;
  };
}

/** The host of a webhook URL, the only part ever logged or shown (the path or query may carry a token). */
export function webhookHost(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

/**
 * POSTs alerts to webhooks: each delivery runs on its own with a time limit, is never retried and never awaited by
 * the sampler; a failure is logged with the host only. `settled()` waits for deliveries in flight (shutdown, tests).
 */
export class AlertWebhooks {
  private readonly inFlight = new Set<Promise<void>>();
  /** Deliveries that got a 2xx answer, and those that did not (for tests and the logs). */
  readonly stats = { delivered: 0, failed: 0 };

  constructor(private readonly options: { timeoutMs: number; logger: Logger }) {}

  send(url: string, payload: AlertWebhookPayload): void {
    const host = webhookHost(url);
    const delivery = fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'StreamSpace-Alerts/1' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(this.options.timeoutMs),
      redirect: 'manual',
    })
      .then(async (res) => {
        await res.body?.cancel().catch(() => undefined);
        if (res.status >= 200 && res.status < 300) {
          this.stats.delivered++;
          return;
        }
        this.stats.failed++;
        this.options.logger.warn({ host, status: res.status, rule: payload.alert.ruleId, event: payload.event }, 'alert webhook: delivery refused');
      })
      .catch((err: Error) => {
        this.stats.failed++;
        this.options.logger.warn({ host, err: err.name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : err.message, rule: payload.alert.ruleId, event: payload.event }, 'alert webhook: delivery failed');
      });
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }

  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }
}
