import { AppError, ErrorCode } from '../../platform/graphql/errors';

export const invalidTemplate = (errors: string[]) =>
  new AppError(ErrorCode.BAD_USER_INPUT, `The template is invalid: ${errors.join('; ')}`, { errors });

export const templateExists = (name: string) => new AppError(ErrorCode.CONFLICT, `Template "${name}" already exists`, { name });
