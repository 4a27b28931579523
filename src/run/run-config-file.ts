import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';

/** Reads a finished or interrupted run's saved config; `flag` is the flag that named the run (for errors). */
export async function readRunConfig(runDir: string, flag = '--resume'): Promise<Record<string, unknown>> {
  const file = path.join(runDir, 'config.json');
  if (!existsSync(file)) {
    throw new UserError(flag, `${runDir} has no config.json`, `Point ${flag} at a run directory (runs/<id>) made by \`ssl run\`.`);
  }
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {
    throw new UserError(flag, `${file} is not valid JSON`, 'Restore the file from the checkpoint or start a new run.');
  }
}
