/**
 * Counts the SQL statements one HTTP request makes, in the process the server runs in (a bench's or a test's): a pg
 * query hook (pg.Client.prototype.query, which TypeORM's driver and the raw pools all go through) adds to the
 * counter of the request whose asynchronous context issued it. The context is entered in a 'request' listener
 * put before the app's own, so everything the request's handling starts (resolvers, DataLoader batches) carries
 * it, while background work (watch mirrors, jobs) does not.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type http from 'node:http';
import { Client } from 'pg';

interface Counter {
  statements: string[];
}

const als = new AsyncLocalStorage<Counter>();
let installed = false;

function installHook(): void {
  if (installed) return;
  installed = true;
  const original = Client.prototype.query as (...args: unknown[]) => unknown;
  (Client.prototype as unknown as { query: (...args: unknown[]) => unknown }).query = function (this: Client, ...args: unknown[]) {
    const counter = als.getStore();
    if (counter) {
      const q = args[0];
      counter.statements.push(typeof q === 'string' ? q : ((q as { text?: string } | undefined)?.text ?? '?'));
    }
    return original.apply(this, args);
  };
}

export const COUNT_HEADER = 'x-bench-count-sql';

/** Requests to `server` carrying the COUNT_HEADER header have their statements recorded; returns the reader. */
export function countStatements(server: http.Server): { last(): string[]; stop(): void } {
  installHook();
  let last: Counter = { statements: [] };
  const onRequest = (req: http.IncomingMessage) => {
    // Every request gets a counter of its own (a keep-alive socket's next request must not add to this one's); one
    // without the header gets none, so the load figures do not pay for the counting.
    const counter: Counter | undefined = req.headers[COUNT_HEADER] ? { statements: [] } : undefined;
    if (counter) last = counter;
    als.enterWith(counter as Counter);
  };
  server.prependListener('request', onRequest);
  return {
    last: () => last.statements,
    // The bench's own AsyncLocalStorage off again: the figures measured after it see the app's hooks only.
    stop: () => {
      server.off('request', onRequest);
      als.disable();
    },
  };
}
