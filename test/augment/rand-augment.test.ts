/** RandAugment's level -> magnitude mapping, draw structure, and the weak/strong compositions. */
import { describe, expect, it } from 'vitest';
import {
  FIXMATCH_POOL,
  flipHorizontal,
  opMagnitude,
  randAugment,
  reflectPadCrop,
  strongAugment,
  weakAugment,
  type AppliedOp,
  type RandAugmentOpName,
} from '../../src/augment/index.js';
import { Rng } from '../../src/util/rng.js';

const spec = (name: RandAugmentOpName) => {
  const s = FIXMATCH_POOL.find((p) => p.name === name);
  if (s === undefined) throw new Error(name);
  return s;
};

/** An Rng stand-in replaying fixed draws, to pin the draw order. */
function scripted(floats: number[], ints: number[]): Rng {
  return {
    float: () => {
      const v = floats.shift();
      if (v === undefined) throw new Error('no more floats');
      return v;
    },
    int: () => {
      const v = ints.shift();
      if (v === undefined) throw new Error('no more ints');
      return v;
    },
  } as unknown as Rng;
}

describe('magnitudes (docs/methods.md §4)', () => {
  it('pool has the 14 official ops in the official order', () => {
    expect(FIXMATCH_POOL.map((s) => s.name)).toEqual([
      'AutoContrast', 'Brightness', 'Color', 'Contrast', 'Equalize', 'Identity', 'Posterize',
      'Rotate', 'Sharpness', 'ShearX', 'ShearY', 'Solarize', 'TranslateX', 'TranslateY',
    ]);
  });

  it('float ops: level/10 · max + bias', () => {
    expect(opMagnitude(spec('Brightness'), 1)).toBeCloseTo(0.14, 12);
    expect(opMagnitude(spec('Sharpness'), 9)).toBeCloseTo(0.86, 12);
    expect(opMagnitude(spec('ShearX'), 5)).toBeCloseTo(0.15, 12);
    expect(opMagnitude(spec('TranslateY'), 9)).toBeCloseTo(0.27, 12);
  });

  it('int ops: int(level/10 · max) + bias', () => {
    expect([1, 5, 9].map((l) => opMagnitude(spec('Posterize'), l))).toEqual([4, 6, 7]);
    expect([1, 9].map((l) => opMagnitude(spec('Rotate'), l))).toEqual([3, 27]);
    // Solarize v: 25 and 230, i.e. thresholds 231 and 26.
    expect([1, 9].map((l) => opMagnitude(spec('Solarize'), l))).toEqual([25, 230]);
  });
});

describe('randAugment draws', () => {
  const dims = { height: 8, width: 8, channels: 3 };
  const img = Uint8Array.from({ length: 192 }, (_, i) => (i * 37) % 256);

  it('draw order: op, apply test (u <= 0.5), level, sign', () => {
    // Slot 1: op 7 (Rotate), u = 0.5 applies, level 1 + 8 = 9, sign u = 0.3 < 0.5 negates.
    // Slot 2: op 6 (Posterize), u = 0.51 skips.
    const record: AppliedOp[] = [];
    randAugment(img, dims, scripted([0.5, 0.3, 0.51], [7, 8, 6]), {}, record);
    expect(record).toEqual([{ name: 'Rotate', level: 9, magnitude: -27 }]);
  });

  it('over many images: 2 slots with replacement, each applied half the time, levels 1..9', () => {
    const rng = new Rng(7);
    const applied = [0, 0, 0];
    const ops = new Set<string>();
    const levels = new Set<number>();
    for (let k = 0; k < 3000; k++) {
      const record: AppliedOp[] = [];
      randAugment(img, { height: 8, width: 8, channels: 3 }, rng, {}, record);
      applied[record.length]++;
      for (const r of record) {
        ops.add(r.name);
        levels.add(r.level);
      }
    }
    // Binomial(2, 0.5): 1/4, 1/2, 1/4 (±4 sd of 3000 draws).
    expect(Math.abs(applied[0] / 3000 - 0.25)).toBeLessThan(0.032);
    expect(Math.abs(applied[1] / 3000 - 0.5)).toBeLessThan(0.037);
    expect(ops.size).toBe(14);
    expect([...levels].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('same seed, same image; input untouched', () => {
    const before = Array.from(img);
    const a = randAugment(img, dims, new Rng(3));
    const b = randAugment(img, dims, new Rng(3));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(img)).toEqual(before);
  });
});

describe('weak and strong compositions', () => {
  const dims = { height: 4, width: 4, channels: 1 };
  const img = Uint8Array.from({ length: 16 }, (_, i) => i);

  it('weak: flip when u < 0.5, then crop at (top, left) = (int, int)', () => {
    const flipped = weakAugment(img, dims, scripted([0.2], [1, 3]), { padding: 2 });
    expect(Array.from(flipped)).toEqual(Array.from(reflectPadCrop(flipHorizontal(img, dims), dims, 2, 1, 3)));
    const kept = weakAugment(img, dims, scripted([0.5], [2, 2]), { padding: 2 });
    expect(Array.from(kept)).toEqual(Array.from(img));
  });

  it('strong always ends with Cutout: 81..289 grey pixels on a black 32 px image', () => {
    const d = { height: 32, width: 32, channels: 3 };
    const black = new Uint8Array(32 * 32 * 3);
    const rng = new Rng(11);
    const seen = new Set<number>();
    for (let k = 0; k < 200; k++) {
      // Every RandAugment op maps black to black, so only Cutout paints.
      const out = strongAugment(black, d, rng, { padding: 4 });
      const grey = out.reduce((n, v) => n + (v === 127 ? 1 : 0), 0);
      expect(grey % 3).toBe(0);
      expect(grey / 3).toBeGreaterThanOrEqual(81);
      expect(grey / 3).toBeLessThanOrEqual(289);
      expect(out.reduce((n, v) => n + (v !== 127 && v !== 0 ? 1 : 0), 0)).toBe(0);
      seen.add(grey / 3);
    }
    expect(seen.has(289)).toBe(true);
  });

  it('strong uses the given cutout size (14 -> at most 15x15 on 28 px grey)', () => {
    const d = { height: 28, width: 28, channels: 1 };
    const out = strongAugment(new Uint8Array(784), d, new Rng(5), { padding: 4, cutoutSize: 14 });
    const grey = out.reduce((n, v) => n + (v === 127 ? 1 : 0), 0);
    expect(grey).toBeGreaterThan(0);
    expect(grey).toBeLessThanOrEqual(225);
  });
});
