import { AppError, ErrorCode } from '../../platform/graphql/errors';

/** maxConnections reached: the error names the limit, its value and where it came from. */
export const tooManyConnections = (session: string, maximum: number, active: number, source: 'session' | 'template') =>
  new AppError(
    ErrorCode.LIMIT_EXCEEDED,
    `Session "${session}" already has ${active} of at most ${maximum} connections (maxConnections${source === 'template' ? ' from the template\'s maxConcurrentUsers' : ''})`,
    { limit: 'maxConnections', maximum, active, source },
  );
