import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/train/checkpoint.js';
import { assertResumable } from '../../src/run/resume.js';
import { resolveRunConfig } from '../../src/config/run-config.js';

describe('checkpoint encoding', () => {
  const ckpt = {
    meta: { step: 7, note: 'x' },
    arrays: { 'model/w': Float32Array.from([1.5, -2, 3]), 'algorithm/sizes': Int32Array.from([4, 5]) },
  };

  it('round-trips metadata and typed arrays exactly', () => {
    const back = decodeCheckpoint(encodeCheckpoint(ckpt), 'mem');
    expect(back.meta).toEqual(ckpt.meta);
    expect(back.arrays['model/w']).toEqual(ckpt.arrays['model/w']);
    expect(back.arrays['algorithm/sizes']).toBeInstanceOf(Int32Array);
    expect(Array.from(back.arrays['algorithm/sizes'])).toEqual([4, 5]);
  });

  it('refuses a truncated or modified file', () => {
    const bytes = encodeCheckpoint(ckpt);
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 10), 'ck')).toThrow(/ck: is not a usable checkpoint/);
    const flipped = bytes.slice();
    flipped[40] ^= 1;
    expect(() => decodeCheckpoint(flipped, 'ck')).toThrow(/checksum mismatch/);
    expect(() => decodeCheckpoint(new Uint8Array(10), 'ck')).toThrow(/bad magic/);
  });
});

describe('assertResumable', () => {
  it('names the first field that differs and ignores runtime-only fields', () => {
    const saved = resolveRunConfig('daso', []);
    expect(() => assertResumable({ ...saved, workers: 3, progress: 'none' }, saved, 'ck')).not.toThrow();
    expect(() => assertResumable({ ...saved, gammaU: 100 }, saved, 'ck')).toThrow(/--resume: gammaU.*gammaU = 100/);
  });
});
