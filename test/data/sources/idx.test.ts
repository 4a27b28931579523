import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import { loadDataset } from '../../../src/data/sources/index.js';
import { loadIdxDataset, parseIdx } from '../../../src/data/sources/idx.js';
import { MNIST_INFO } from '../../../src/data/sources/embedded.js';
import { userErrorAsync } from '../../helpers/user-error.js';

/** An IDX ubyte file: magic 0 0 8 ndims, big-endian dims, data. */
function idx(dims: number[], data: number[]): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

const dir = mkdtempSync(join(tmpdir(), 'ssl-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a tiny MNIST-layout dataset: 3 train images 2x2, 2 test images. */
function writeTiny(sub: string, gz: boolean): string {
  const d = join(dir, sub);
  const write = (name: string, buf: Buffer): void => {
    const file = join(d, gz ? `${name}.gz` : name);
    writeFileSync(file, gz ? gzipSync(buf) : buf);
  };
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  write('train-images-idx3-ubyte', idx([3, 2, 2], [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]));
  write('train-labels-idx1-ubyte', idx([3], [7, 0, 9]));
  write('t10k-images-idx3-ubyte', idx([2, 2, 2], [5, 5, 5, 5, 6, 6, 6, 6]));
  write('t10k-labels-idx1-ubyte', idx([2], [1, 2]));
  return d;
}

function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}


describe('parseIdx', () => {
  it('reads dims and data', () => {
    const a = parseIdx(idx([2, 1, 3], [1, 2, 3, 4, 5, 6]), 'x', 3);
    expect(a.dims).toEqual([2, 1, 3]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects a bad magic, element type, dimension count and size, naming the file', () => {
    const good = idx([2, 2], [1, 2, 3, 4]);
    const badMagic = Buffer.from(good);
    badMagic[0] = 0x1f;
    expect(userError(() => parseIdx(badMagic, '/d/f.idx', 2)).message).toMatch(/^\/d\/f\.idx: is not an IDX file/);
    const badType = Buffer.from(good);
    badType[2] = 0x0d;
    expect(userError(() => parseIdx(badType, 'f', 2)).message).toMatch(/element type 0x0d/);
    expect(userError(() => parseIdx(good, 'f', 3)).message).toMatch(/has 2 dimensions, expected 3/);
    const truncated = userError(() => parseIdx(good.subarray(0, good.length - 1), 'f', 2));
    expect(truncated.message).toMatch(/truncated: header \[2, 2\] needs 16 bytes, file has 15/);
    expect(truncated.fix).toMatch(/download it again/);
    expect(userError(() => parseIdx(Buffer.concat([good, Buffer.from([0])]), 'f', 2)).message).toMatch(/longer than its header/);
    expect(userError(() => parseIdx(Buffer.from([0, 0]), 'f', 2)).message).toMatch(/too short/);
  });
});

describe('loadIdxDataset', () => {
  for (const gz of [false, true]) {
    it(`loads train and test, ${gz ? 'gzipped' : 'plain'}`, async () => {
      const d = writeTiny(gz ? 'gz' : 'plain', gz);
      const ds = await loadIdxDataset(d, MNIST_INFO);
      expect(ds.numClasses).toBe(10);
      expect(ds.train).toMatchObject({ count: 3, height: 2, width: 2, channels: 1 });
      expect(Array.from(ds.train.images)).toEqual([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
      expect(Array.from(ds.train.labels)).toEqual([7, 0, 9]);
      expect(Array.from(ds.test.labels)).toEqual([1, 2]);
      expect(ds.mean).toEqual([0.1307]);
    });
  }

  it('names a truncated gzip file', async () => {
    const d = writeTiny('trunc', true);
    const file = join(d, 'train-images-idx3-ubyte.gz');
    const full = gzipSync(idx([3, 2, 2], new Array(12).fill(1)));
    writeFileSync(file, full.subarray(0, full.length - 6));
    const err = await userErrorAsync(loadIdxDataset(d, MNIST_INFO));
    expect(err.field).toBe(file);
    expect(err.message).toMatch(/not a valid gzip file/);
  });

  it('rejects a label count that does not match the images, and an out-of-range label', async () => {
    const d = writeTiny('mismatch', false);
    writeFileSync(join(d, 'train-labels-idx1-ubyte'), idx([2], [1, 2]));
    expect((await userErrorAsync(loadIdxDataset(d, MNIST_INFO))).message).toMatch(/holds 2 labels but .* holds 3 images/);
    writeFileSync(join(d, 'train-labels-idx1-ubyte'), idx([3], [1, 2, 10]));
    expect((await userErrorAsync(loadIdxDataset(d, MNIST_INFO))).message).toMatch(/label 10 at position 2/);
  });

  it('names a missing file and the README', async () => {
    const d = writeTiny('missing', false);
    rmSync(join(d, 't10k-labels-idx1-ubyte'));
    const err = await userErrorAsync(loadIdxDataset(d, MNIST_INFO));
    expect(err.field).toBe(join(d, 't10k-labels-idx1-ubyte.gz'));
    expect(err.message).toMatch(/mnist file not found.*datasets\/README\.md/);
  });
});

describe('loadDataset', () => {
  it('loads the embedded Fashion-MNIST: 60000 + 10000 images of 28x28x1, balanced', async () => {
    const ds = await loadDataset({ name: 'fashion-mnist' });
    expect(ds.train).toMatchObject({ count: 60000, height: 28, width: 28, channels: 1 });
    expect(ds.test.count).toBe(10000);
    expect(ds.train.images.length).toBe(60000 * 784);
    expect(ds.classNames[0]).toBe('T-shirt/top');
    expect(ds.mean).toEqual([0.286]);
    expect(ds.std).toEqual([0.353]);
    const perClass = new Array(10).fill(0);
    for (const y of ds.train.labels) perClass[y]++;
    expect(perClass).toEqual(new Array(10).fill(6000));
    // First training labels of the official file (9 = Ankle boot, 0 = T-shirt/top, ...).
    expect(Array.from(ds.train.labels.subarray(0, 6))).toEqual([9, 0, 0, 3, 0, 2]);
  });

  it('reads mnist from --data-dir', async () => {
    const d = writeTiny('mnist-dir', true);
    const ds = await loadDataset({ name: 'mnist', dataDir: d });
    expect(ds.name).toBe('mnist');
    expect(ds.train.count).toBe(3);
  });

  it('rejects an unknown dataset listing the valid names', async () => {
    const err = await userErrorAsync(loadDataset({ name: 'imagenet' }));
    expect(err.field).toBe('--dataset');
    expect(err.message).toMatch(/unknown dataset "imagenet".*fashion-mnist, mnist, cifar10, cifar100, stl10, image-folder/);
  });

  it('names a missing data folder and where data is expected', async () => {
    const missing = join(dir, 'nope');
    const err = await userErrorAsync(loadDataset({ name: 'cifar10', dataDir: missing }));
    expect(err.field).toBe('--data-dir');
    expect(err.message).toContain(missing);
    expect(err.message).toMatch(/datasets\/README\.md/);
  });
});
