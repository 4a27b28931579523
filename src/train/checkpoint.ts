import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';

const MAGIC = 'SSLCKPT1';

/** A typed array saved by name. */
export type SavedArray = Float32Array | Int32Array;

/** Everything needed to continue a run exactly: JSON metadata plus named typed arrays. */
export interface Checkpoint {
  readonly meta: Record<string, unknown>;
  readonly arrays: Record<string, SavedArray>;
}

interface BlobEntry {
  readonly name: string;
  readonly dtype: 'float32' | 'int32';
  readonly offset: number;
  readonly length: number;
}

/**
 * Serialises a checkpoint: magic, header length (uint32 LE), JSON header, 4-byte aligned blobs,
 * then the SHA-256 of all preceding bytes so that a truncated or corrupt file is refused.
 */
export function encodeCheckpoint(ckpt: Checkpoint): Uint8Array {
  const entries: BlobEntry[] = [];
  let offset = 0;
  for (const [name, arr] of Object.entries(ckpt.arrays)) {
    const dtype = arr instanceof Float32Array ? 'float32' : 'int32';
    entries.push({ name, dtype, offset, length: arr.length });
    offset += arr.length * 4;
  }
  const header = Buffer.from(JSON.stringify({ meta: ckpt.meta, blobs: entries }), 'utf8');
  const headerPadded = Math.ceil(header.length / 4) * 4;
  const bodyStart = 8 + 4 + headerPadded;
  const total = bodyStart + offset;
  const out = new Uint8Array(total + 32);
  out.set(Buffer.from(MAGIC, 'ascii'), 0);
  new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, 12);
  for (const e of entries) {
    const arr = ckpt.arrays[e.name];
    out.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), bodyStart + e.offset);
  }
  out.set(createHash('sha256').update(out.subarray(0, total)).digest(), total);
  return out;
}

/** Parses and verifies a checkpoint; `source` names the file in errors. */
export function decodeCheckpoint(bytes: Uint8Array, source: string): Checkpoint {
  const corrupt = (why: string): UserError =>
    new UserError(source, `is not a usable checkpoint (${why})`, 'Resume from an earlier checkpoint or start the run again.');
  if (bytes.length < 8 + 4 + 32 || Buffer.from(bytes.subarray(0, 8)).toString('ascii') !== MAGIC) throw corrupt('bad magic or too short');
  const total = bytes.length - 32;
  const digest = createHash('sha256').update(bytes.subarray(0, total)).digest();
  if (!Buffer.from(bytes.subarray(total)).equals(digest)) throw corrupt('checksum mismatch: truncated or modified');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  let header: { meta: Record<string, unknown>; blobs: BlobEntry[] };
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(12, 12 + headerLength)).toString('utf8'));
  } catch {
    throw corrupt('unreadable header');
  }
  const bodyStart = 12 + Math.ceil(headerLength / 4) * 4;
  const arrays: Record<string, SavedArray> = {};
  for (const e of header.blobs) {
    const start = bodyStart + e.offset;
    const copy = bytes.slice(start, start + e.length * 4);
    arrays[e.name] = e.dtype === 'float32' ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
  }
  return { meta: header.meta, arrays };
}

export async function saveCheckpoint(file: string, ckpt: Checkpoint): Promise<void> {
  await writeFileAtomic(file, encodeCheckpoint(ckpt));
}

export async function loadCheckpoint(file: string): Promise<Checkpoint> {
  if (!existsSync(file)) throw new UserError('--resume', `no checkpoint at ${file}`, 'Point --resume at a run directory that has checkpoints/last.ckpt.');
  return decodeCheckpoint(new Uint8Array(await readFile(file)), file);
}
