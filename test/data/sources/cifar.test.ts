import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CIFAR100_CLASS_NAMES, CIFAR10_MEAN, loadCifar10, loadCifar100, parseCifarRecords } from '../../../src/data/sources/cifar.js';
import { userErrorAsync } from '../../helpers/user-error.js';

const dir = mkdtempSync(join(tmpdir(), 'ssl-cifar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One CIFAR record: label byte(s), then R, G, B planes of 32x32 with a pattern per image `k`. */
function record(labels: number[], k: number): Buffer {
  const img = Buffer.alloc(3072);
  for (let p = 0; p < 1024; p++) {
    img[p] = (p + k) % 256; // R
    img[1024 + p] = (3 * p + k) % 256; // G
    img[2048 + p] = 255 - ((p + k) % 256); // B
  }
  return Buffer.concat([Buffer.from(labels), img]);
}


describe('parseCifarRecords', () => {
  it('converts CHW planes to HWC and keeps the label', () => {
    const set = parseCifarRecords([{ path: 'f', bytes: Buffer.concat([record([3], 0), record([9], 5)]) }], 1, 0, 10);
    expect(set).toMatchObject({ count: 2, height: 32, width: 32, channels: 3 });
    expect(Array.from(set.labels)).toEqual([3, 9]);
    // Image 1, pixel (y=2, x=7): p = 71.
    const at = (n: number, y: number, x: number, c: number): number => set.images[n * 3072 + (y * 32 + x) * 3 + c];
    expect([at(1, 2, 7, 0), at(1, 2, 7, 1), at(1, 2, 7, 2)]).toEqual([76, 218, 179]);
    expect([at(0, 0, 0, 0), at(0, 0, 0, 1), at(0, 0, 0, 2)]).toEqual([0, 0, 255]);
  });

  it('uses the fine label of CIFAR-100 records', () => {
    const set = parseCifarRecords([{ path: 'f', bytes: record([4, 87], 0) }], 2, 1, 100);
    expect(Array.from(set.labels)).toEqual([87]);
  });

  it('rejects a partial record and an out-of-range label, naming the file', () => {
    expect(() => parseCifarRecords([{ path: '/x/data_batch_1.bin', bytes: record([1], 0).subarray(0, 3000) }], 1, 0, 10)).toThrow(
      /\/x\/data_batch_1\.bin: has 3000 bytes, not a positive multiple of the 3073-byte record/,
    );
    expect(() => parseCifarRecords([{ path: 'f', bytes: record([10], 0) }], 1, 0, 10)).toThrow(/label 10 in record 0/);
  });
});

describe('loadCifar10 / loadCifar100', () => {
  it('reads the five training batches and the test batch from cifar-10-batches-bin or its parent', async () => {
    const root = join(dir, 'c10');
    const bin = join(root, 'cifar-10-batches-bin');
    mkdirSync(bin, { recursive: true });
    for (let i = 1; i <= 5; i++) writeFileSync(join(bin, `data_batch_${i}.bin`), Buffer.concat([record([i], i), record([0], 0)]));
    writeFileSync(join(bin, 'test_batch.bin'), record([7], 1));
    for (const d of [root, bin]) {
      const ds = await loadCifar10(d, { train: 2, test: 1 });
      expect(ds.train.count).toBe(10);
      expect(Array.from(ds.train.labels)).toEqual([1, 0, 2, 0, 3, 0, 4, 0, 5, 0]);
      expect(Array.from(ds.test.labels)).toEqual([7]);
      expect(ds.classNames[0]).toBe('airplane');
      expect(ds.mean).toBe(CIFAR10_MEAN);
    }
    // A file cut at a record boundary (1 of its 2 records) parses, but the format's count catches it.
    writeFileSync(join(bin, 'data_batch_2.bin'), record([2], 2));
    const cut = await userErrorAsync(loadCifar10(root, { train: 2, test: 1 }));
    expect(cut.message).toMatch(/data_batch_2\.bin: has 1 records, the format defines 2 per file/);
    expect((await userErrorAsync(loadCifar10(root))).message).toMatch(/has 2 records, the format defines 10000 per file/);
    rmSync(join(bin, 'data_batch_3.bin'));
    const err = await userErrorAsync(loadCifar10(root, { train: 2, test: 1 }));
    expect(err.field).toBe(join(bin, 'data_batch_3.bin'));
    expect(err.message).toMatch(/cifar10 file not found/);
  });

  it('reads CIFAR-100 train.bin/test.bin with fine labels and 100 class names', async () => {
    const bin = join(dir, 'cifar-100-binary');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'train.bin'), Buffer.concat([record([1, 99], 0), record([2, 0], 0)]));
    writeFileSync(join(bin, 'test.bin'), record([3, 50], 0));
    const ds = await loadCifar100(bin, { train: 2, test: 1 });
    expect(ds.numClasses).toBe(100);
    expect(CIFAR100_CLASS_NAMES.length).toBe(100);
    expect(new Set(CIFAR100_CLASS_NAMES).size).toBe(100);
    expect(Array.from(ds.train.labels)).toEqual([99, 0]);
    expect(ds.classNames[99]).toBe('worm');
    expect(Array.from(ds.test.labels)).toEqual([50]);
  });
});
