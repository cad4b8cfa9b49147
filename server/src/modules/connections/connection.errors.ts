import { AppError, ErrorCode } from '../../platform/graphql/errors';

/** maxConnections reached: the error names the limit, its value and where it came from. */
export const tooManyConnections = (session: string, maximum: number, active: number, source: 'session' | 'template') =>
  new AppError(
    ErrorCode.LIMIT_EXCEEDED,
    `Session "${session}" already has ${active} of at most ${maximum} connections (maxConnections${source === 'template' ? ' from the template\'s maxConcurrentUsers' : ''})`,
    { limit: 'maxConnections', maximum, active, source },
  );

/** Someone on the access list as VIEWER may watch a running session but not start the owner's session. */
export const viewerCannotStart = (session: string, state: string) =>
  new AppError(ErrorCode.CONFLICT, `Session "${session}" is ${state}; a viewer cannot start it (ask its owner)`, { state, access: 'VIEWER' });
