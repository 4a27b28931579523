import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { UserError } from '../../errors.js';

const gunzipAsync = promisify(gunzip);

/** Where to read about getting a dataset; every "missing file" message points here. */
export const DATA_README = 'datasets/README.md';

/**
 * The folder a dataset is read from: `dataDir` if given, else `$SSL_DATA_DIR/<name>`, else
 * `./data/<name>`. When that folder holds the archive's own top folder (`cifar-10-batches-bin`,
 * `stl10_binary`, ...) that one is used, so both the extraction folder and its parent work.
 *
 * @param field the flag to name in errors (`--data-dir`)
 * @throws UserError naming the path when no such folder exists
 */
export function resolveDataDir(name: string, dataDir: string | undefined, archiveFolder: string | null, field = '--data-dir'): string {
  const base = dataDir ?? join(process.env.SSL_DATA_DIR ?? 'data', name);
  const dir = resolve(base);
  if (!isDirectory(dir)) {
    throw new UserError(
      field,
      `the ${name} folder ${dir} does not exist${dataDir === undefined ? ' (default location; no --data-dir given)' : ''}`,
      `Download ${name} and pass its folder with --data-dir (or set SSL_DATA_DIR); see ${DATA_README} for the expected files.`,
    );
  }
  if (archiveFolder !== null && isDirectory(join(dir, archiveFolder))) return join(dir, archiveFolder);
  return dir;
}

/**
 * Reads a data file, gunzipping it when its name ends in `.gz`.
 * @throws UserError naming the file when it is missing or not valid gzip (truncated download)
 */
export async function readDataFile(path: string, datasetName: string): Promise<Buffer> {
  if (!existsSync(path)) {
    throw new UserError(
      path,
      `${datasetName} file not found`,
      `Put the ${datasetName} files in that folder (or pass another --data-dir); see ${DATA_README}.`,
    );
  }
  const raw = await readFile(path);
  if (!path.endsWith('.gz')) return raw;
  try {
    return await gunzipAsync(raw);
  } catch (e) {
    throw new UserError(
      path,
      `is not a valid gzip file (${(e as Error).message}); the download is probably truncated or corrupt`,
      `Download the file again; see ${DATA_README}.`,
    );
  }
}

/** The first of `names` that exists in `dir`, or the first name (for the error message) when none does. */
export function firstExisting(dir: string, names: readonly string[]): string {
  for (const n of names) {
    const p = join(dir, n);
    if (existsSync(p)) return p;
  }
  return join(dir, names[0]);
}

/** Class names from a text file of one name per line (CIFAR's `batches.meta.txt`), or `fallback`. */
export async function readClassNames(path: string, fallback: readonly string[]): Promise<readonly string[]> {
  if (!existsSync(path)) return fallback;
  const names = (await readFile(path, 'utf8'))
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return names.length === fallback.length ? names : fallback;
}

/** A corrupt-file error: the file, what is wrong and that it should be downloaded again. */
export function corruptFile(path: string, problem: string): UserError {
  return new UserError(path, problem, `The file is truncated or corrupt: download it again; see ${DATA_README}.`);
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
