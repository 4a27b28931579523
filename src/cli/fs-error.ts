import { UserError } from '../errors.js';

/** What a failed file-system call means to a user, by errno code, and what to do about it. */
const MEANINGS: Readonly<Record<string, { readonly problem: string; readonly fix: string }>> = {
  EACCES: { problem: 'permission denied', fix: 'Choose a folder you can write (e.g. --out-dir under your home), or fix its permissions.' },
  EPERM: { problem: 'operation not permitted', fix: 'Choose a folder you can write, or fix its permissions.' },
  EROFS: { problem: 'the file system is read-only', fix: 'Choose a folder on a writable disk (--out-dir, --save).' },
  ENOSPC: { problem: 'the disk is full', fix: 'Free some space or choose a folder on another disk; a resumable run keeps its last checkpoint.' },
  EDQUOT: { problem: 'the disk quota is exceeded', fix: 'Free some space or choose a folder on another disk.' },
  ENOTDIR: { problem: 'a part of this path is a file, not a folder', fix: 'Point the flag at a folder (or a new path), not at a file.' },
  EEXIST: { problem: 'a file is in the way of a folder', fix: 'Point the flag at a folder (or a new path), not at a file.' },
  EISDIR: { problem: 'this is a folder, a file was expected', fix: 'Give a file path, e.g. --save split.json.' },
  ENOENT: { problem: 'no such file or folder', fix: 'Check the path.' },
};

/**
 * A Node file-system error as a UserError naming the path, or undefined when `err` is not one.
 * The CLI turns what would be "internal error" and a stack trace into a message and exit code 2.
 */
export function fileSystemUserError(err: unknown): UserError | undefined {
  const e = err as NodeJS.ErrnoException | undefined;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string' || typeof e.syscall !== 'string') return undefined;
  const meaning = MEANINGS[e.code];
  if (!meaning) return undefined;
  const where = e.path ?? (e as { dest?: string }).dest ?? '(unknown path)';
  return new UserError(where, `${meaning.problem} (${e.syscall})`, meaning.fix);
}
