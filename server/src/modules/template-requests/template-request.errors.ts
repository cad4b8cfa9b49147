import { AppError, ErrorCode } from '../../platform/graphql/errors';

export const REASON_MAX_LENGTH = 500;

/**
 * CONFLICT, not FORBIDDEN: the caller may make requests; the platform's state (the setting) does not take them now.
 * FORBIDDEN stays the answer to a missing role.
 */
export const browsingOff = () =>
  new AppError(ErrorCode.CONFLICT, 'Browsing and requesting catalog templates is turned off (setting features.catalogBrowsing)', { setting: 'features.catalogBrowsing' });
export const alreadyInstalled = (name: string) =>
  new AppError(ErrorCode.CONFLICT, `The template "${name}" is already installed; launch it from your apps`, { template: name });
export const reasonTooLong = () => new AppError(ErrorCode.BAD_USER_INPUT, `The reason must be at most ${REASON_MAX_LENGTH} characters long`, { field: 'reason' });
