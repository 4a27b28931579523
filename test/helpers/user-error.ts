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

/** Runs `fn` and expects a UserError whose message matches `pattern`. */
export function expectUserError(fn: () => unknown, pattern: RegExp): UserError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    if (!pattern.test(e.message)) throw new Error(`UserError "${e.message}" does not match ${pattern}`, { cause: e });
    return e;
  }
  throw new Error(`expected a UserError matching ${pattern}`);
}
