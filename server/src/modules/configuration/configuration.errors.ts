import { AppError, ErrorCode } from '../../platform/graphql/errors';
import { SETTINGS, type SettingDefinition } from './settings.registry';

export const unknownSetting = (key: string) =>
  new AppError(ErrorCode.NOT_FOUND, `There is no setting "${key}"; known settings: ${SETTINGS.map((s) => s.key).join(', ')}`, { key });

export const invalidSettingValue = (setting: SettingDefinition) =>
  new AppError(ErrorCode.BAD_USER_INPUT, `${setting.key} must be ${setting.rule}`, { key: setting.key, rule: setting.rule });

/** A change refused as a whole: one entry per setting that breaks its rule or that the API server's dry run refused. */
export const invalidSettings = (errors: { key: string; message: string }[]) =>
  new AppError(ErrorCode.BAD_USER_INPUT, `Nothing was changed: ${errors.map((e) => `${e.key}: ${e.message}`).join('; ')}`, { fieldErrors: errors });

export const unknownVersion = (id: number) => new AppError(ErrorCode.NOT_FOUND, `Configuration version ${id} was not found`, { id });
