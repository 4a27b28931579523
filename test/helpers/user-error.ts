import { UserError } from '../../src/errors.js';

/** Awaits `p` and returns the UserError it rejects with; fails the test on success or any other error. */
export async function userErrorAsync(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}
