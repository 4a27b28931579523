import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CIFAR10_MEAN, CIFAR10_STD } from '../../../src/data/sources/cifar.js';
import { loadStl10, parseStl10 } from '../../../src/data/sources/stl10.js';
import { checkAgainstPil, pattern96 } from '../../fixtures/pil-resize.js';

const dir = mkdtempSync(join(tmpdir(), 'ssl-stl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Stores an HWC 96x96x3 image the way STL-10 does: per channel, column-major. */
function toStl(hwc: Uint8Array): Buffer {
  const out = Buffer.alloc(96 * 96 * 3);
  for (let c = 0; c < 3; c++) {
    for (let x = 0; x < 96; x++) for (let y = 0; y < 96; y++) out[c * 9216 + x * 96 + y] = hwc[(y * 96 + x) * 3 + c];
  }
  return out;
}

describe('STL-10', () => {
  const img = pattern96();
  const flat = new Uint8Array(96 * 96 * 3).fill(9);

  it('undoes the column-major layout (size 96 keeps the pixels)', () => {
    const set = parseStl10(Buffer.concat([toStl(img), toStl(flat)]), Buffer.from([1, 10]), 'x', 'y', 96);
    expect(set).toMatchObject({ count: 2, height: 96, width: 96, channels: 3 });
    expect(Array.from(set.labels)).toEqual([0, 9]);
    expect(Array.from(set.images.subarray(0, img.length))).toEqual(Array.from(img));
  });

  it('resizes 96 -> 32 exactly as Pillow bilinear (torchvision Resize in DASO)', async () => {
    const bin = join(dir, 'stl10_binary');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'train_X.bin'), Buffer.concat([toStl(img), toStl(flat)]));
    writeFileSync(join(bin, 'train_y.bin'), Buffer.from([3, 1]));
    writeFileSync(join(bin, 'test_X.bin'), toStl(flat));
    writeFileSync(join(bin, 'test_y.bin'), Buffer.from([2]));
    const ds = await loadStl10(dir);
    expect(ds.train).toMatchObject({ count: 2, height: 32, width: 32, channels: 3 });
    expect(Array.from(ds.train.labels)).toEqual([2, 0]);
    checkAgainstPil(ds.train.images.subarray(0, 3072));
    expect(ds.train.images.subarray(3072).every((v) => v === 9)).toBe(true);
    expect(ds.classNames[7]).toBe('monkey');
    expect(ds.mean).toBe(CIFAR10_MEAN);
    expect(ds.std).toBe(CIFAR10_STD);
  });

  it('rejects a label outside 1..10 and a size mismatch, naming the file', () => {
    expect(() => parseStl10(toStl(flat), Buffer.from([0]), 'x', '/d/train_y.bin', 32)).toThrow(/\/d\/train_y\.bin: has label 0 at position 0, expected 1\.\.10/);
    expect(() => parseStl10(toStl(flat), Buffer.from([1, 2]), 'x', '/d/train_y.bin', 32)).toThrow(/holds 2 labels but x holds 1 images/);
    expect(() => parseStl10(toStl(flat).subarray(1), Buffer.from([1]), '/d/train_X.bin', 'y', 32)).toThrow(/\/d\/train_X\.bin: has 27647 bytes/);
  });
});
