import { mkdir, rename, writeFile, open } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes a file so that readers see the old content or the new one, never half of it: write a
 * temporary file in the same folder, fsync it, rename it over the target.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, data);
  const handle = await open(tmp, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}
