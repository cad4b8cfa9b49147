import { randomUUID } from 'node:crypto';
import type { createPubSub } from '@graphql-yoga/subscription';
import { Client } from 'pg';
import type { Logger } from '../logging/logger';

/**
 * The application's pub/sub for GraphQL subscriptions (type-graphql's `pubSub`).
 *
 * `publish` delivers to this process's subscribers at once (the original objects, no serialisation) and, once
 * a bridge is attached (`attachPostgresBridge`), also sends the event over PostgreSQL NOTIFY so subscribers on
 * every other replica receive it. A replica ignores its own notifications (it already delivered them).
 *
 * Topics whose publishers run on every replica anyway (the sessions table writer watches on every replica and
 * publishes SESSION_UPDATED itself) are marked `localOnly`, so their events are not delivered twice.
 */
export type AppTopics = {
  [topic: string]: [unknown] | [string | number, unknown];
};

type LocalPubSub = ReturnType<typeof createPubSub<AppTopics>>;

/**
 * The events of one topic as they are published. Listening starts with the first `next()` (the streams are
 * lazy); `return()` stops listening.
 */
export type TopicStream<T> = AsyncGenerator<T, void, unknown>;

export interface AppPubSub {
  publish: LocalPubSub['publish'];
  /** type-graphql's view of the pub/sub (`topics:` subscriptions); in code, use `subscribeTopic`. */
  subscribe: LocalPubSub['subscribe'];
  /** The events of one topic, typed by what its publishers send (`T`, declared beside the topic's name). */
  subscribeTopic<T>(topic: string): TopicStream<T>;
  /** Events of this topic stay in this process (their publisher runs on every replica). */
  markLocalOnly(topic: string): void;
  /** Delivers to this process's subscribers only (used by the bridge for events from other replicas). */
  deliverLocally(topic: string, args: unknown[]): void;
  /** Set by the bridge: sends one event to the other replicas. */
  setRemote(send: ((topic: string, args: unknown[]) => void) | undefined): void;
}

/** Events one subscriber may have waiting; a subscriber further behind than this is ended (see TopicQueue). */
export const MAX_QUEUED_EVENTS = 1024;

/**
 * One subscriber of one topic: the events published since it started listening, read as an async iterator.
 * Listening starts with the first `next()` (lazy, so a stream nobody reads holds nothing) and stops on `return()`.
 * A publish hands the event to a waiting `next()` or queues it; a subscriber that lets MAX_QUEUED_EVENTS pile up is
 * ended (its stream completes, and clients re-read state when they subscribe again) rather than held without bound.
 */
class TopicQueue<T> implements AsyncGenerator<T, void, unknown> {
  private queued: T[] = [];
  private readers: ((result: IteratorResult<T, void>) => void)[] = [];
  private state: 'idle' | 'listening' | 'done' = 'idle';

  constructor(
    private readonly listeners: Map<string, Set<TopicQueue<unknown>>>,
    private readonly topic: string,
  ) {}

  push(value: T): void {
    const reader = this.readers.shift();
    if (reader) reader({ done: false, value });
    else if (this.queued.length < MAX_QUEUED_EVENTS) this.queued.push(value);
    else this.finish();
  }

  next(): Promise<IteratorResult<T, void>> {
    if (this.state === 'idle') {
      this.state = 'listening';
      let set = this.listeners.get(this.topic);
      if (!set) this.listeners.set(this.topic, (set = new Set()));
      set.add(this as TopicQueue<unknown>);
    }
    if (this.queued.length) return Promise.resolve({ done: false, value: this.queued.shift()! });
    if (this.state === 'done') return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => this.readers.push(resolve));
  }

  return(): Promise<IteratorResult<T, void>> {
    this.finish();
    return Promise.resolve({ done: true, value: undefined });
  }

  throw(err: unknown): Promise<IteratorResult<T, void>> {
    this.finish();
    return Promise.reject(err);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.finish();
  }

  private finish(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.queued = [];
    const set = this.listeners.get(this.topic);
    if (set?.delete(this as TopicQueue<unknown>) && !set.size) this.listeners.delete(this.topic);
    for (const reader of this.readers.splice(0)) reader({ done: true, value: undefined });
  }
}

export function createAppPubSub(): AppPubSub {
  // Each subscriber is one entry in its topic's set: a publish is one loop over the topic's subscribers, however
  // many thousands there are (an EventTarget with one listener each costs more per add and per dispatch).
  const listeners = new Map<string, Set<TopicQueue<unknown>>>();
  const localOnly = new Set<string>();
  let remote: ((topic: string, args: unknown[]) => void) | undefined;
  // As graphql-yoga's pub/sub: publish(topic, payload) or publish(topic, id, payload), heard by subscribe(topic[, id]).
  const topicOf = (routingKey: string, id?: unknown) => (id === undefined ? routingKey : `${routingKey}:${String(id)}`);
  const deliver = (routingKey: string, args: unknown[]) => {
    const set = listeners.get(args[1] === undefined ? routingKey : topicOf(routingKey, args[0]));
    if (!set) return;
    const payload = args[1] ?? args[0] ?? null;
    for (const subscriber of set) subscriber.push(payload);
  };
  const subscribe = (routingKey: string, id?: unknown) => new TopicQueue<unknown>(listeners, topicOf(routingKey, id));
  return {
    publish: ((topic: string, ...args: unknown[]) => {
      deliver(topic, args);
      if (remote && !localOnly.has(topic)) remote(topic, args);
    }) as LocalPubSub['publish'],
    subscribe: subscribe as unknown as LocalPubSub['subscribe'],
    // The topic map is open (any string), so the library cannot know a topic's payload: its publisher's does.
    subscribeTopic: <T>(topic: string) => subscribe(topic) as unknown as TopicStream<T>,
    markLocalOnly: (topic) => void localOnly.add(topic),
    deliverLocally: deliver,
    setRemote: (send) => {
      remote = send;
    },
  };
}

/**
 * `stream` (an async generator reading a topic), whose return() ends its `source` first. An async generator handles
 * return() only at a `yield`: one waiting for its next event would otherwise keep listening, and graphql-ws's
 * complete (and our ws-server's release of the caller's subscription slot, which waits for return()) would hang
 * until an event it passes on arrives, which may be never.
 */
export function endingWithSource<T>(stream: AsyncGenerator<T>, endSource: () => unknown): AsyncGenerator<T> {
  const returnStream = stream.return.bind(stream);
  stream.return = async (value) => {
    await endSource();
    return returnStream(value);
  };
  return stream;
}

export const PUBSUB_CHANNEL = 'streamspace_events';
/** NOTIFY payloads must stay under 8000 bytes; larger events travel through the pubsub_messages table. */
const MAX_INLINE_BYTES = 7000;

/** JSON that keeps Date objects Dates across the wire ({"$date": iso}). */
export function encodeEvent(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const raw = this[key];
    if (raw instanceof Date) return { $date: Number.isNaN(raw.getTime()) ? null : raw.toISOString() };
    return v;
  });
}

export function decodeEvent(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === '$date') {
        const iso = (v as { $date: string | null }).$date;
        return iso === null ? new Date(NaN) : new Date(iso);
      }
    }
    return v;
  });
}

interface WireMessage {
  /** Origin replica. */
  o: string;
  t?: string;
  a?: unknown[];
  /** Row id in pubsub_messages when the event was too large for NOTIFY. */
  r?: string;
}

export interface PostgresBridge {
  readonly instanceId: string;
  /** True while the LISTEN connection is up. */
  readonly connected: boolean;
  /** Events received from other replicas (tests, metrics). */
  readonly received: number;
  stop(): Promise<void>;
}

/**
 * Bridges the pub/sub over PostgreSQL LISTEN/NOTIFY: one dedicated connection both LISTENs and sends
 * (`pg_notify`), so events leave in publish order. After a lost connection it reconnects with backoff and
 * LISTENs again; events published by other replicas during the gap are lost (subscriptions are live
 * updates: clients re-read state when they resubscribe), events published here during the gap were
 * still delivered to local subscribers.
 */
export async function attachPostgresBridge(pubSub: AppPubSub, options: { url: string; logger: Logger }): Promise<PostgresBridge> {
  const instanceId = randomUUID();
  const log = options.logger.child({ component: 'pubsub' });
  let client: Client | undefined;
  let connected = false;
  let stopped = false;
  let received = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let cleanupCounter = 0;

  const onNotification = (msg: { channel: string; payload?: string }) => {
    if (msg.channel !== PUBSUB_CHANNEL || !msg.payload) return;
    let wire: WireMessage;
    try {
      wire = decodeEvent(msg.payload) as WireMessage;
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'pubsub: undecodable notification ignored');
      return;
    }
    if (wire.o === instanceId) return;
    if (wire.r) {
      const c = client;
      void c
        ?.query<{ payload: string }>('SELECT payload FROM pubsub_messages WHERE id = $1', [wire.r])
        .then((res) => {
          const row = res.rows[0];
          if (!row) return;
          const full = decodeEvent(row.payload) as WireMessage;
          received++;
          pubSub.deliverLocally(full.t!, full.a ?? []);
        })
        .catch((err: Error) => log.warn({ err: err.message }, 'pubsub: could not read a large event'));
      return;
    }
    received++;
    pubSub.deliverLocally(wire.t!, wire.a ?? []);
  };

  async function connect(): Promise<void> {
    const c = new Client({ connectionString: options.url, application_name: 'streamspace-pubsub' });
    c.on('notification', onNotification);
    c.on('error', (err) => {
      log.warn({ err: err.message }, 'pubsub: LISTEN connection failed; reconnecting');
      drop(c);
    });
    c.on('end', () => drop(c));
    await c.connect();
    await c.query(`LISTEN ${PUBSUB_CHANNEL}`);
    client = c;
    connected = true;
    failures = 0;
  }

  function drop(c: Client) {
    if (client !== c) return;
    client = undefined;
    connected = false;
    c.removeAllListeners('notification');
    void c.end().catch(() => undefined);
    scheduleReconnect();
  }

  function scheduleReconnect() {
    if (stopped || reconnectTimer) return;
    const delay = Math.min(10_000, 200 * 2 ** failures++);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      connect().then(
        () => log.info('pubsub: LISTEN connection re-established'),
        (err: Error) => {
          log.warn({ err: err.message, retryInMs: delay }, 'pubsub: reconnect failed');
          scheduleReconnect();
        },
      );
    }, delay);
    reconnectTimer.unref();
  }

  // The LISTEN connection's NOTIFYs go out one after the other, each after the previous one's answer (pg runs one
  // query per connection at a time; handing it the next while one runs is deprecated and goes away in pg 9).
  let sending: Promise<unknown> = Promise.resolve();
  const send = (c: Client, sql: string, params?: unknown[]): Promise<unknown> => {
    const next = sending.then(() => c.query(sql, params));
    sending = next.catch(() => undefined);
    return next;
  };

  pubSub.setRemote((topic, args) => {
    const c = client;
    if (!c) return; // not connected: this replica's subscribers got it; the others miss it (see above)
    let text: string;
    try {
      text = encodeEvent({ o: instanceId, t: topic, a: args } satisfies WireMessage);
    } catch (err) {
      log.warn({ err: (err as Error).message, topic }, 'pubsub: event is not serialisable; delivered locally only');
      return;
    }
    const fail = (err: Error) => log.warn({ err: err.message, topic }, 'pubsub: NOTIFY failed');
    if (Buffer.byteLength(text) <= MAX_INLINE_BYTES) {
      send(c, 'SELECT pg_notify($1, $2)', [PUBSUB_CHANNEL, text]).catch(fail);
      return;
    }
    // Large events: store the body, notify its id; old bodies are cleaned up now and then.
    const cleanup = ++cleanupCounter % 50 === 0;
    send(
      c,
      `WITH ins AS (INSERT INTO pubsub_messages (payload) VALUES ($1) RETURNING id)
       SELECT pg_notify($2, json_build_object('o', $3::text, 'r', ins.id::text)::text), ins.id FROM ins`,
      [text, PUBSUB_CHANNEL, instanceId],
    ).catch(fail);
    if (cleanup) send(c, `DELETE FROM pubsub_messages WHERE created_at < now() - interval '5 minutes'`).catch(fail);
  });

  try {
    await connect();
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'pubsub: could not LISTEN yet; retrying in the background');
    scheduleReconnect();
  }
  log.info({ instanceId }, 'pubsub: PostgreSQL LISTEN/NOTIFY bridge attached');

  return {
    instanceId,
    get connected() {
      return connected;
    },
    get received() {
      return received;
    },
    async stop() {
      stopped = true;
      pubSub.setRemote(undefined);
      if (reconnectTimer) clearTimeout(reconnectTimer);
      const c = client;
      client = undefined;
      connected = false;
      if (c) {
        c.removeAllListeners('notification');
        await c.end().catch(() => undefined);
      }
    },
  };
}
