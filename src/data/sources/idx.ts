import type { Dataset, ImageSet } from '../image-set.js';
import { corruptFile, firstExisting, readDataFile, resolveDataDir } from './files.js';

/** The IDX format (LeCun's MNIST files): magic 0x00 0x00 <type> <ndims>, big-endian uint32 dims, data. */
export interface IdxArray {
  readonly dims: readonly number[];
  /** uint8 values, row-major; a view into the file's bytes. */
  readonly data: Uint8Array;
}

const IDX_UBYTE = 0x08;

/**
 * Parses an unsigned-byte IDX file and checks its header against its size.
 * @param path named in errors
 * @param expectedDims number of dimensions the caller needs (3 for images, 1 for labels)
 * @throws UserError naming the file when the magic, the dimensions or the size are wrong
 */
export function parseIdx(bytes: Uint8Array, path: string, expectedDims: number): IdxArray {
  if (bytes.length < 4) throw corruptFile(path, `has ${bytes.length} bytes, too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw corruptFile(path, `is not an IDX file (magic number starts ${hex(bytes[0])} ${hex(bytes[1])}, expected 0x00 0x00)`);
  }
  if (bytes[2] !== IDX_UBYTE) throw corruptFile(path, `has IDX element type ${hex(bytes[2])}, expected unsigned byte (0x08)`);
  const ndims = bytes[3];
  if (ndims !== expectedDims) throw corruptFile(path, `has ${ndims} dimensions, expected ${expectedDims}`);
  const headerSize = 4 + 4 * ndims;
  if (bytes.length < headerSize) throw corruptFile(path, `has ${bytes.length} bytes, too short for its ${ndims}-d IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const size = dims.reduce((a, b) => a * b, 1);
  const expected = headerSize + size;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'longer than its header says';
    throw corruptFile(path, `is ${what}: header [${dims.join(', ')}] needs ${expected} bytes, file has ${bytes.length}`);
  }
  return { dims, data: bytes.subarray(headerSize) };
}

/** Reads and parses an IDX file, gzipped or not (by extension). */
export async function readIdx(path: string, datasetName: string, expectedDims: number): Promise<IdxArray> {
  return parseIdx(await readDataFile(path, datasetName), path, expectedDims);
}

/** Static facts of an IDX dataset (MNIST-like). */
export interface IdxDatasetInfo {
  readonly name: string;
  readonly classNames: readonly string[];
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/**
 * Loads an MNIST-layout dataset from `dir`: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
 * `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each optionally `.gz` (the gzipped name is
 * tried first), also with a `.` instead of the last `-` (`train-images.idx3-ubyte`).
 * Images become [N, H, W, 1] uint8.
 */
export async function loadIdxDataset(dir: string, info: IdxDatasetInfo): Promise<Dataset> {
  const [train, test] = await Promise.all([
    loadIdxPair(dir, 'train', info),
    loadIdxPair(dir, 't10k', info),
  ]);
  return { name: info.name, numClasses: info.classNames.length, classNames: info.classNames, train, test, mean: info.mean, std: info.std };
}

/** Resolves the folder (`--data-dir`, `$SSL_DATA_DIR/<name>`, `./data/<name>`) and loads it. */
export async function loadIdxFromDataDir(dataDir: string | undefined, info: IdxDatasetInfo): Promise<Dataset> {
  return loadIdxDataset(resolveDataDir(info.name, dataDir, null), info);
}

async function loadIdxPair(dir: string, prefix: string, info: IdxDatasetInfo): Promise<ImageSet> {
  const imagesPath = firstExisting(dir, idxNames(`${prefix}-images`, 'idx3-ubyte'));
  const labelsPath = firstExisting(dir, idxNames(`${prefix}-labels`, 'idx1-ubyte'));
  const [images, labels] = await Promise.all([
    readIdx(imagesPath, info.name, 3),
    readIdx(labelsPath, info.name, 1),
  ]);
  const [count, height, width] = images.dims;
  if (labels.dims[0] !== count) {
    throw corruptFile(labelsPath, `holds ${labels.dims[0]} labels but ${imagesPath} holds ${count} images`);
  }
  const numClasses = info.classNames.length;
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const y = labels.data[i];
    if (y >= numClasses) throw corruptFile(labelsPath, `has label ${y} at position ${i}, expected 0..${numClasses - 1}`);
    out[i] = y;
  }
  // Copy so the set does not pin the whole decompressed file buffer.
  return { images: new Uint8Array(images.data), labels: out, count, height, width, channels: 1 };
}

function idxNames(stem: string, suffix: string): string[] {
  const names = [`${stem}-${suffix}`, `${stem}.${suffix}`];
  return names.flatMap((n) => [`${n}.gz`, n]);
}

function hex(b: number): string {
  return `0x${b.toString(16).padStart(2, '0')}`;
}
