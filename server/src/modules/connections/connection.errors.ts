import { AppError, ErrorCode } from '../../platform/graphql/errors';

/** maxConnections reached: the error names the limit, its value and where it came from. */
export const tooManyConnections = (session: string, maximum: number, active: number, source: 'session' | 'template') =>
  new AppError(
    ErrorCode.LIMIT_EXCEEDED,
    `Session "${session}" already has ${active} of at most ${maximum} connections (maxConnections${source === 'template' ? ' from the template\'s maxConcurrentUsers' : ''})`,
    { limit: 'maxConnections', maximum, active, source },
  );

export const autoStartDisabled = (session: string, state: string) =>
  new AppError(ErrorCode.CONFLICT, `Session "${session}" is ${state} and its autoStart is off; start it first`, { state, autoStart: false });

export const sessionFailed = (session: string, reason: string, message: string) =>
  new AppError(ErrorCode.CONFLICT, `Session "${session}" cannot start (${reason}): ${message}`, { reason, message });

/** The pod was not Ready within startupTimeout; `reason` says what stands in the way. */
export const startupTimedOut = (session: string, timeoutMs: number, reason: string, message: string) =>
  new AppError(
    ErrorCode.TIMEOUT,
    `Session "${session}" was not ready within its startup timeout of ${Math.round(timeoutMs / 1000)}s: ${message}`,
    { reason, message, startupTimeoutSeconds: Math.round(timeoutMs / 1000) },
  );
