import http from 'node:http';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestApp } from '../support/app';
import { ALERT_CHANGED } from '../../src/modules/monitoring/monitoring.service';
import { waitUntil } from '../support/wait';

/** A webhook receiver on loopback: every POST's JSON body, in order; answers `status` (200 unless changed). */
export interface WebhookReceiver {
  url: string;
  bodies: { path: string; body: { event: string; alert: Record<string, unknown> } }[];
  status: number;
  /** True: requests are recorded but never answered (until close). */
  hold: boolean;
  /** Requests held open without an answer so far. */
  held: http.ServerResponse[];
  waitFor(count: number, what: string): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const bodies: WebhookReceiver['bodies'] = [];
  const receiver = { status: 200, hold: false, held: [] } as unknown as WebhookReceiver;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookReceiver['bodies'][number]['body'] });
      if (receiver.hold) receiver.held.push(res);
      else res.writeHead(receiver.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/hooks/secret-token-123`,
    bodies,
    waitFor: (count: number, what: string) => waitUntil(() => bodies.length >= count, what, 30_000),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

export interface AlertEvent {
  alertChanged: { id: string; ruleId: string; state: string; value: number; source: string };
}

/** An admin's alertChanged subscription over graphql-ws: the events so far, and a way to wait for more. */
export async function subscribeAlerts(app: TestApp, token: string): Promise<{ events: AlertEvent[]; errors: unknown[]; waitFor(n: number, what: string): Promise<void>; close(): Promise<void> }> {
  const client: Client = createClient({ url: app.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  const events: AlertEvent[] = [];
  const errors: unknown[] = [];
  let live = false;
  const dispose = client.subscribe<AlertEvent>(
    { query: 'subscription AlertFeed { alertChanged { id ruleId state value source } }' },
    {
      next: (v) => {
        if (v.errors) errors.push(v.errors);
        else if ((v.data as AlertEvent).alertChanged.ruleId === 'probe') live = true;
        else events.push(v.data as AlertEvent);
      },
      error: (e) => errors.push(e),
      complete: () => undefined,
    },
  );
  // Live once a probe event published on the app's own pub/sub comes through (no sleeping).
  const probe = { id: 'probe', ruleId: 'probe', state: 'resolved', severity: 'warning', value: 0, threshold: 0, message: 'probe', source: 'test', firedAt: new Date(), resolvedAt: new Date() };
  await waitUntil(
    () => {
      if (live || errors.length > 0) return true;
      app.services.pubSub.publish(ALERT_CHANGED, probe);
      return false;
    },
    'the alertChanged subscription to be live',
    30_000,
  );
  if (errors.length) throw new Error(`alertChanged refused: ${JSON.stringify(errors)}`);
  return {
    events,
    errors,
    waitFor: (n, what) => waitUntil(() => events.length >= n || errors.length > 0, what, 30_000),
    close: async () => {
      dispose();
      await client.dispose();
    },
  };
}
