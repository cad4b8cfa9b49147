import { AppError, ErrorCode } from '../../platform/graphql/errors';
import { SETTINGS, type SettingDefinition } from './settings.registry';

export const unknownSetting = (key: string) =>
  new AppError(ErrorCode.NOT_FOUND, `There is no setting "${key}"; known settings: ${SETTINGS.map((s) => s.key).join(', ')}`, { key });

export const invalidSettingValue = (setting: SettingDefinition) =>
  new AppError(ErrorCode.BAD_USER_INPUT, `${setting.key} must be ${setting.rule}`, { key: setting.key, rule: setting.rule });
