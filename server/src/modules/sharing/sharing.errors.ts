import { AppError, ErrorCode } from '../../platform/graphql/errors';

/** Why a share was refused (extensions.details.reason), for clients that show a precise message. */
export const ShareRefusal = {
  UNKNOWN_USER: 'UNKNOWN_USER',
  SELF: 'SELF',
  OWNER: 'OWNER',
  INVALID_ROLE: 'INVALID_ROLE',
  UNKNOWN_GROUP: 'UNKNOWN_GROUP',
  SHARING_DISABLED: 'SHARING_DISABLED',
} as const;

export const unknownUser = (username: string) =>
  new AppError(ErrorCode.BAD_USER_INPUT, `No user is called "${username}"`, { username, reason: ShareRefusal.UNKNOWN_USER });
export const cannotShareWithSelf = () => new AppError(ErrorCode.BAD_USER_INPUT, 'You cannot share a session with yourself', { reason: ShareRefusal.SELF });
export const cannotShareWithOwner = (username: string) =>
  new AppError(ErrorCode.BAD_USER_INPUT, `"${username}" owns this session already`, { username, reason: ShareRefusal.OWNER });
export const invalidRole = (role: string) => new AppError(ErrorCode.BAD_USER_INPUT, `Unknown role "${role}" (VIEWER or COLLABORATOR)`, { role, reason: ShareRefusal.INVALID_ROLE });
export const alreadyShared = (username: string, role: string) =>
  new AppError(ErrorCode.CONFLICT, `The session is already shared with "${username}" (as ${role}); change the role instead`, { username, role });
export const notShared = (username: string) => new AppError(ErrorCode.NOT_FOUND, `The session is not shared with "${username}"`, { username });
/** Someone on the access list may use the session but not manage who else may. */
export const notTheOwner = () => new AppError(ErrorCode.FORBIDDEN, "Only the session's owner or an admin manages its access list");

export const unknownGroup = (group: string) =>
  new AppError(ErrorCode.BAD_USER_INPUT, `No group is called "${group}"`, { group, reason: ShareRefusal.UNKNOWN_GROUP });
export const alreadySharedWithGroup = (group: string, role: string) =>
  new AppError(ErrorCode.CONFLICT, `The session is already shared with the group "${group}" (as ${role}); change the role instead`, { group, role });
export const notSharedWithGroup = (group: string) => new AppError(ErrorCode.NOT_FOUND, `The session is not shared with the group "${group}"`, { group });
export const sharingDisabled = () =>
  new AppError(ErrorCode.FORBIDDEN, 'Sharing sessions is switched off by an administrator', { reason: ShareRefusal.SHARING_DISABLED, feature: 'sharing' });
