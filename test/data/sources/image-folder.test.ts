import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset, loadImageFolder } from '../../../src/data/sources/index.js';
import { userErrorAsync } from '../../helpers/user-error.js';

const dir = mkdtempSync(join(tmpdir(), 'ssl-folder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function solidPng(file: string, rgb: [number, number, number], side = 4): Promise<void> {
  mkdirSync(join(file, '..'), { recursive: true });
  await sharp({ create: { width: side, height: side, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toFile(file);
}


const root = join(dir, 'ok');

beforeAll(async () => {
  await solidPng(join(root, 'train', 'dog', 'c.png'), [0, 0, 255]);
  await solidPng(join(root, 'train', 'cat', 'b.png'), [255, 0, 0], 6);
  await solidPng(join(root, 'train', 'cat', 'a.png'), [255, 0, 0]);
  await solidPng(join(root, 'test', 'dog', 'd.png'), [0, 0, 255]);
  writeFileSync(join(root, 'train', 'cat', 'notes.txt'), 'ignored: not an image');
});

describe('image-folder source', () => {
  it('labels by sorted class folder, resizes, and computes mean/std from train', async () => {
    const ds = await loadDataset({ name: 'image-folder', dataDir: root, imageSize: 2 });
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect(ds.train).toMatchObject({ count: 3, height: 2, width: 2, channels: 3 });
    expect(Array.from(ds.train.labels)).toEqual([0, 0, 1]);
    expect(Array.from(ds.train.images.subarray(0, 3))).toEqual([255, 0, 0]);
    expect(Array.from(ds.train.images.subarray(24, 27))).toEqual([0, 0, 255]);
    expect(Array.from(ds.test.labels)).toEqual([1]);
    expect(ds.mean[0]).toBeCloseTo(2 / 3, 10);
    expect(ds.mean[1]).toBe(0);
    expect(ds.mean[2]).toBeCloseTo(1 / 3, 10);
    expect(ds.std[0]).toBeCloseTo(Math.sqrt(2) / 3, 10);
  });

  it('converts to one grey channel with Pillow weights', async () => {
    const ds = await loadDataset({ name: 'image-folder', dataDir: root, imageSize: 3, channels: 1 });
    expect(ds.train.channels).toBe(1);
    // (255·19595 + 0x8000) >> 16 = 76 for red, (255·7471 + 0x8000) >> 16 = 29 for blue.
    expect(ds.train.images[0]).toBe(76);
    expect(ds.train.images[18]).toBe(29);
  });

  it('needs --data-dir, a train/ and a test/ folder, and decodable files', async () => {
    expect((await userErrorAsync(loadDataset({ name: 'image-folder' }))).field).toBe('--data-dir');
    const noTest = join(dir, 'no-test');
    await solidPng(join(noTest, 'train', 'a', 'x.png'), [1, 2, 3]);
    await solidPng(join(noTest, 'train', 'b', 'x.png'), [1, 2, 3]);
    expect((await userErrorAsync(loadDataset({ name: 'image-folder', dataDir: noTest }))).message).toMatch(/no test\/ sub-folder/);
    const bad = join(dir, 'bad');
    await solidPng(join(bad, 'train', 'a', 'x.png'), [1, 2, 3]);
    await solidPng(join(bad, 'test', 'a', 'x.png'), [1, 2, 3]);
    mkdirSync(join(bad, 'train', 'b'), { recursive: true });
    writeFileSync(join(bad, 'train', 'b', 'broken.png'), 'not a png');
    const err = await userErrorAsync(loadDataset({ name: 'image-folder', dataDir: bad }));
    expect(err.field).toBe(join(bad, 'train', 'b', 'broken.png'));
    expect(err.message).toMatch(/cannot be decoded/);
    await solidPng(join(bad, 'test', 'zebra', 'x.png'), [1, 2, 3]);
    rmSync(join(bad, 'train', 'b', 'broken.png'));
    expect((await userErrorAsync(loadDataset({ name: 'image-folder', dataDir: bad }))).message).toMatch(/class "zebra" is not among/);
  });

  it('refuses an image over the pixel limit before decoding it, naming the file', async () => {
    const big = join(dir, 'big');
    await solidPng(join(big, 'train', 'a', 'x.png'), [1, 2, 3]);
    await solidPng(join(big, 'train', 'b', 'x.png'), [1, 2, 3]);
    await solidPng(join(big, 'test', 'a', 'x.png'), [1, 2, 3]);
    // Decodes run concurrently: the named file must be the first in sorted order every time,
    // not whichever check finished first (a race CI once lost).
    for (let attempt = 0; attempt < 20; attempt++) {
      const err = await userErrorAsync(loadImageFolder(big, { maxPixels: 10 }));
      expect(err.field).toBe(join(big, 'train', 'a', 'x.png'));
      expect(err.message).toMatch(/is \d+x\d+ = \d+ pixels, over the limit of 10/);
    }
  });
});
