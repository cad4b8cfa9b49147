import { AppError, ErrorCode } from '../../platform/graphql/errors';

/** Why a group change was refused (extensions.details.reason), for clients that show a precise message. */
export const GroupRefusal = {
  INVALID_NAME: 'INVALID_NAME',
  INVALID_DESCRIPTION: 'INVALID_DESCRIPTION',
  UNKNOWN_USER: 'UNKNOWN_USER',
} as const;

export const invalidGroupName = () =>
  new AppError(ErrorCode.BAD_USER_INPUT, 'A group name is 1-100 letters, digits, spaces, dots, dashes, underscores, slashes, colons or @, starting with a letter or digit', {
    field: 'name',
    reason: GroupRefusal.INVALID_NAME,
  });
export const invalidGroupDescription = () =>
  new AppError(ErrorCode.BAD_USER_INPUT, 'A group description is at most 500 characters long', { field: 'description', reason: GroupRefusal.INVALID_DESCRIPTION });
export const groupNameTaken = (name: string) => new AppError(ErrorCode.CONFLICT, `A group called "${name}" exists already`, { name });
export const unknownMember = (username: string) =>
  new AppError(ErrorCode.BAD_USER_INPUT, `No user is called "${username}"`, { username, reason: GroupRefusal.UNKNOWN_USER });
export const alreadyMember = (username: string, group: string) => new AppError(ErrorCode.CONFLICT, `"${username}" is a member of "${group}" already`, { username, group });
export const notMember = (username: string, group: string) => new AppError(ErrorCode.NOT_FOUND, `"${username}" is not a member of "${group}"`, { username, group });
