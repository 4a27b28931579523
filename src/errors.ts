/**
 * An error caused by what the user gave us (a flag, a file, a dataset), as opposed to a bug.
 * The CLI prints these without a stack trace; the message names the field, the value and the fix.
 */
export class UserError extends Error {
  /** The config field, flag or file the problem is in, e.g. `gammaL` or `--data-dir`. */
  readonly field: string;
  /** What the user can do about it. */
  readonly fix: string;

  constructor(field: string, problem: string, fix: string) {
    super(`${field}: ${problem}. ${fix}`);
    this.name = 'UserError';
    this.field = field;
    this.fix = fix;
  }
}
