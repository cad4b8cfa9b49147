import { AppError, ErrorCode } from '../../platform/graphql/errors';

export const unknownTemplate = (name: string) => new AppError(ErrorCode.BAD_USER_INPUT, `Unknown template "${name}"`, { template: name });
export const unusableTemplate = (name: string, reason: string) =>
  new AppError(ErrorCode.BAD_USER_INPUT, `Template "${name}" cannot be used: ${reason}`, { template: name });
/** The template asks for security exceptions an admin has not approved. */
export const unapprovedTemplate = (name: string, message: string) =>
  new AppError(ErrorCode.FORBIDDEN, message, { template: name, reason: 'TemplateNotApproved' });
export const invalidSessionInput = (errors: string[]) => new AppError(ErrorCode.BAD_USER_INPUT, `Invalid session settings: ${errors.join('; ')}`, { errors });
export const badTransition = (action: string, state: string) =>
  new AppError(ErrorCode.CONFLICT, `Cannot ${action} a session that is ${state}`, { state });

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
