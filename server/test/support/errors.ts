import { expect } from 'chai';
import { AppError } from '../../src/platform/graphql/errors';

/** The AppError a service call is expected to fail with (the test fails if it succeeds or throws something else). */
export async function refusal(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected the call to be refused with an AppError');
}
