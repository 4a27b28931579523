import { describe, expect, it } from 'vitest';
import { resizeBilinear } from '../../../src/data/sources/resize.js';
import { checkAgainstPil, pattern96 } from '../../fixtures/pil-resize.js';


describe('resizeBilinear (Pillow BILINEAR)', () => {
  it('downscales by 3 with the widened triangle filter, by hand', () => {
    // Output 0: weights [1/4, 3/8, 1/4, 1/8] on x=0..3; output 1: [1/8, 1/4, 3/8, 1/4] on x=2..5.
    const out = resizeBilinear(Uint8Array.from([0, 80, 160, 240, 0, 0]), 1, 6, 1, 1, 2);
    expect(Array.from(out)).toEqual([100, 80]);
  });

  it('matches Pillow on a 96 -> 32 RGB image', () => {
    checkAgainstPil(resizeBilinear(pattern96(), 96, 96, 3, 32, 32));
  });

  it('keeps a constant image constant and copies when the size is unchanged', () => {
    const flat = new Uint8Array(28 * 28).fill(77);
    expect(resizeBilinear(flat, 28, 28, 1, 32, 32).every((v) => v === 77)).toBe(true);
    const same = resizeBilinear(flat, 28, 28, 1, 28, 28);
    expect(same).not.toBe(flat);
    expect(Array.from(same)).toEqual(Array.from(flat));
  });
});
