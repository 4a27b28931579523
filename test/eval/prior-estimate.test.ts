import { describe, expect, it } from 'vitest';
import { classDistribution, klDivergence, scorePriorEstimates } from '../../src/eval/prior-estimate.js';

describe('prior estimates against the truth', () => {
  it('KL(p ‖ q) by hand, 0·log 0 = 0, infinite where q misses mass', () => {
    // p = [0.5, 0.5], q = [0.25, 0.75]: 0.5·ln 2 + 0.5·ln(2/3) = 0.346574 − 0.202733 = 0.143841.
    expect(klDivergence([0.5, 0.5], [0.25, 0.75])).toBeCloseTo(0.143841, 6);
    expect(klDivergence([0, 1], [0.5, 0.5])).toBeCloseTo(Math.log(2), 10);
    expect(klDivergence([0.5, 0.5], [1, 0])).toBe(Infinity);
    // Unnormalised inputs are normalised first: [2, 2] vs [1, 3] is the first case.
    expect(klDivergence([2, 2], [1, 3])).toBeCloseTo(0.143841, 6);
    expect(() => klDivergence([1], [0.5, 0.5])).toThrow(/classes/);
  });

  it('class distribution and scored estimates', () => {
    expect(classDistribution(Int32Array.of(0, 1, 1, 3), 4)).toEqual([0.25, 0.5, 0, 0.25]);
    const scored = scorePriorEstimates({ darp: [1, 1] }, [0.25, 0.75]);
    expect(scored.darp!.estimate).toEqual([0.5, 0.5]);
    expect(scored.darp!.kl).toBeCloseTo(0.143841, 6);
  });
});
