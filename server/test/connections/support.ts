import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestApp } from '../support/app';
import type { SignedIn } from '../support/auth';
import { waitUntil } from '../support/wait';
import { FIXTURE_DIR } from '../templates/template-fixtures';

export const SESSION_FIELDS = 'id name state phase url podName activeConnections totalConnections lastConnection lastDisconnect lastActivity';

export interface Sess {
  id: string;
  name: string;
  state: string;
  phase: string;
  url: string | null;
  podName: string | null;
  activeConnections: number;
  totalConnections: number;
  lastConnection: string | null;
  lastDisconnect: string | null;
  lastActivity: string | null;
}

export interface Connected {
  connectionId: string;
  url: string;
  beaconToken: string;
  heartbeatIntervalSeconds: number;
  session: Sess;
}

/** A multi-user template with connection-based autoscaling (1 to 3 pods, one connection each). */
export const SHARED_TEMPLATE = `apiVersion: stream.streamspace.io/v1alpha1
kind: Template
metadata:
  name: shared-board
spec:
  displayName: Shared board
  description: A whiteboard many people use at once.
  category: Productivity
  baseImage: ghcr.io/example/board:1.0
  appType: webapp
  webapp:
    port: 8080
  multiUser: true
  maxConcurrentUsers: 3
  autoScaling:
    enabled: true
    minReplicas: 1
    maxReplicas: 3
    targetConnections: 1
`;

/** A template whose sessions hibernate after 3 s without connections (unless a session says otherwise). */
export const QUICK_IDLE_TEMPLATE = `apiVersion: stream.streamspace.io/v1alpha1
kind: Template
metadata:
  name: quick-idle
spec:
  displayName: Quick idle
  baseImage: ghcr.io/example/notes:1.0
  appType: webapp
  webapp:
    port: 8080
  idleTimeout: 3s
`;

/** A template whose pods can never be scheduled (no node has 500 CPUs). */
export const HUGE_TEMPLATE = `apiVersion: stream.streamspace.io/v1alpha1
kind: Template
metadata:
  name: too-big
spec:
  displayName: Too big
  baseImage: ghcr.io/example/big:1.0
  appType: webapp
  webapp:
    port: 8080
  defaultResources:
    requests:
      cpu: "500"
      memory: 1Gi
`;

export async function applyTemplates(app: TestApp, admin: SignedIn, yamls: string[]) {
  for (const yaml of yamls) {
    const res = await app.gql('mutation Apply($yaml: String!) { applyTemplateYaml(yaml: $yaml) { name } }', { yaml }, admin.headers);
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
  }
}

export function firefoxYaml(): string {
  return fs.readFileSync(path.join(FIXTURE_DIR, 'web-browsers/firefox.yaml'), 'utf8');
}

export class Api {
  constructor(
    public app: TestApp,
    public who: SignedIn,
  ) {}

  async raw<T>(query: string, variables?: Record<string, unknown>, extraHeaders: Record<string, string> = {}) {
    return (await this.app.gql<T>(query, variables, { ...this.who.headers, ...extraHeaders })).body;
  }

  async ok<T>(query: string, variables?: Record<string, unknown>, extraHeaders: Record<string, string> = {}): Promise<T> {
    const body = await this.raw<T>(query, variables, extraHeaders);
    if (body.errors) {
      // A masked internal error names its request id: show what the server logged for it.
      const ids = new Set(body.errors.map((e) => e.extensions?.requestId).filter(Boolean));
      const logged = this.app.logs.filter((l) => ids.has(l.reqId as string) && Number(l.level) >= 50);
      expect(body.errors, `${JSON.stringify(body.errors)}\nserver log: ${JSON.stringify(logged)}`).to.equal(undefined);
    }
    return body.data!;
  }

  async createSession(input: Record<string, unknown>): Promise<Sess> {
    return (await this.ok<{ createSession: Sess }>(`mutation C($input: CreateSessionInput!) { createSession(input: $input) { ${SESSION_FIELDS} } }`, { input })).createSession;
  }

  async session(id: string): Promise<Sess & { idle: { activeConnections: number; hibernatesAt: string | null; reason: string; idleTimeout: string; idleTimeoutSource: string } }> {
    return (
      await this.ok<{ session: Sess & { idle: never } }>(
        `query S($id: ID!) { session(id: $id) { ${SESSION_FIELDS} idle { activeConnections lastActivity hibernatesAt idleTimeout idleTimeoutSource reason } } }`,
        { id },
      )
    ).session;
  }

  async waitPhase(id: string, phase: string, timeoutMs = 90_000): Promise<Sess> {
    let last: Sess | undefined;
    await waitUntil(
      async () => {
        last = await this.session(id);
        return last.phase === phase;
      },
      `session ${id} to be ${phase}`,
      timeoutMs,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last seen ${JSON.stringify(last)}`);
    });
    return last!;
  }

  connectRaw(id: string, userAgent = 'connections-test/1.0') {
    return this.raw<{ connectSession: Connected }>(
      `mutation Connect($id: ID!) { connectSession(id: $id) { connectionId url beaconToken heartbeatIntervalSeconds session { ${SESSION_FIELDS} } } }`,
      { id },
      { 'user-agent': userAgent },
    );
  }

  async connect(id: string, userAgent?: string): Promise<Connected> {
    const body = await this.connectRaw(id, userAgent);
    expect(body.errors, JSON.stringify(body.errors)).to.equal(undefined);
    return body.data!.connectSession;
  }

  heartbeat(connectionId: string) {
    return this.raw<{ heartbeat: boolean }>('mutation H($id: ID!) { heartbeat(connectionId: $id) }', { id: connectionId });
  }

  disconnect(connectionId: string) {
    return this.raw<{ disconnectSession: { id: string; disconnectedAt: string | null; disconnectReason: string | null } }>(
      'mutation D($id: ID!) { disconnectSession(connectionId: $id) { id disconnectedAt disconnectReason } }',
      { id: connectionId },
    );
  }

  connections(sessionId: string, includeEnded = true) {
    return this.raw<{ sessionConnections: { id: string; user: string | null; clientIp: string | null; userAgent: string | null; disconnectedAt: string | null; disconnectReason: string | null }[] }>(
      'query L($id: ID!, $all: Boolean) { sessionConnections(sessionId: $id, includeEnded: $all) { id user clientIp userAgent connectedAt lastActivity disconnectedAt disconnectReason } }',
      { id: sessionId, all: includeEnded },
    );
  }
}

/** A graphql-ws client collecting every event of one subscription. */
export function subscribe<T>(wsUrl: string, token: string, query: string, variables: Record<string, unknown>) {
  const client: Client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: false });
  const events: T[] = [];
  const errors: unknown[] = [];
  let completed = false;
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (v) => {
        if (v.errors) errors.push(...v.errors);
        if (v.data) events.push(v.data as T);
      },
      error: (e) => errors.push(e),
      complete: () => (completed = true),
    },
  );
  return {
    events,
    errors,
    get completed() {
      return completed;
    },
    async close() {
      dispose();
      await client.dispose();
    },
  };
}
