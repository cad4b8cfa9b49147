import { AppError, ErrorCode } from '../../platform/graphql/errors';

export const usernameTaken = (username: string) => new AppError(ErrorCode.CONFLICT, `The username "${username}" is already taken`, { username });
export const lastAdmin = () =>
  new AppError(ErrorCode.CONFLICT, 'This change would leave no enabled admin; promote another user first');
export const wrongPassword = () => new AppError(ErrorCode.BAD_USER_INPUT, 'The current password is not correct', { field: 'currentPassword' });
export const notLocalUser = () => new AppError(ErrorCode.BAD_USER_INPUT, 'This account signs in through single sign-on and has no password here');
export const cannotDeleteSelf = () => new AppError(ErrorCode.BAD_USER_INPUT, 'You cannot delete your own account; another admin has to', { field: 'id' });
export const ssoUserPassword = () =>
  new AppError(ErrorCode.BAD_USER_INPUT, 'This account signs in through single sign-on; its password is managed by the identity provider', { field: 'id' });
