import { readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.js';

/** The lock file of a run directory while a process trains in it. */
export const LOCK_FILE = '.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `runDir`'s lock, so that two processes never train in one run directory (two runs started
 * with the same --run-id, or a resume while the run still trains). Created exclusively; a lock left
 * by a killed process of this machine is taken over. Returns the release function.
 *
 * @throws UserError naming the process that holds the directory
 */
export async function acquireRunLock(runDir: string): Promise<() => Promise<void>> {
  const file = path.join(runDir, LOCK_FILE);
  const mine = JSON.stringify({ pid: process.pid, host: hostname() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, mine, { flag: 'wx' });
      return async () => {
        await unlink(file).catch(() => undefined);
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: { pid?: number; host?: string } = {};
    try {
      holder = JSON.parse(await readFile(file, 'utf8')) as typeof holder;
    } catch {
      // Unreadable: written by a process killed mid-write; treat as stale.
    }
    const sameHost = holder.host === hostname();
    if (typeof holder.pid === 'number' && (!sameHost || alive(holder.pid))) {
      throw new UserError(
        runDir,
        `is in use by process ${holder.pid}${sameHost ? '' : ` on ${String(holder.host)}`}`,
        `Wait for it, or pick another --run-id. If that process is gone, delete ${file}.`,
      );
    }
    await unlink(file).catch(() => undefined);
  }
  throw new UserError(runDir, 'could not take its lock', `Delete ${file} if no run is using the folder.`);
}

/** Who holds a run directory's lock: the process and host, and whether it is alive (null: another host, unknown). */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly alive: boolean | null;
}

/**
 * The holder of `runDir`'s lock, or null when the directory is free (no lock, or one left by a
 * dead process of this machine, which the next {@link acquireRunLock} takes over).
 */
export async function lockHolder(runDir: string): Promise<LockHolder | null> {
  let holder: { pid?: number; host?: string };
  try {
    holder = JSON.parse(await readFile(path.join(runDir, LOCK_FILE), 'utf8')) as typeof holder;
  } catch {
    return null;
  }
  if (typeof holder.pid !== 'number') return null;
  const host = String(holder.host);
  if (host !== hostname()) return { pid: holder.pid, host, alive: null };
  return alive(holder.pid) ? { pid: holder.pid, host, alive: true } : null;
}
