import { AppError, ErrorCode } from '../../platform/graphql/errors';

export const unknownTemplate = (name: string) => new AppError(ErrorCode.BAD_USER_INPUT, `Unknown template "${name}"`, { template: name });
export const unusableTemplate = (name: string, reason: string) =>
  new AppError(ErrorCode.BAD_USER_INPUT, `Template "${name}" cannot be used: ${reason}`, { template: name });
export const invalidSessionInput = (errors: string[]) => new AppError(ErrorCode.BAD_USER_INPUT, `Invalid session settings: ${errors.join('; ')}`, { errors });
export const badTransition = (action: string, state: string) =>
  new AppError(ErrorCode.CONFLICT, `Cannot ${action} a session that is ${state}`, { state });
