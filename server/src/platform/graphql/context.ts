import type { Logger } from '../logging/logger';
import type { LoaderRegistry } from './loaders';

/** Who is calling. Identity fills it from the bearer token; null means anonymous. */
export interface Caller {
  id: string;
  username: string;
  role: string;
  /** The sign-in (refresh-token family) the access token belongs to, when the token names one. */
  sid?: string;
}

/** Built fresh for every HTTP request and every graphql-ws subscription. */
export interface GraphQLContext {
  requestId: string;
  logger: Logger;
  caller: Caller | null;
  /** Per-request DataLoaders: nested fields batch into one query per type. */
  loaders: LoaderRegistry;
  clientIp?: string;
  userAgent?: string;
}
