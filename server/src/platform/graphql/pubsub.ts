import { createPubSub } from '@graphql-yoga/subscription';

/**
 * Topics published inside this process. Issue 6 bridges them over PostgreSQL LISTEN/NOTIFY so a
 * subscriber on any replica sees events from all replicas.
 */
export type AppTopics = {
  [topic: string]: [unknown] | [string | number, unknown];
};

export function createAppPubSub() {
  return createPubSub<AppTopics>();
}

export type AppPubSub = ReturnType<typeof createAppPubSub>;
