import { describe, expect, it } from 'vitest';
import { bbnAlpha, bbnMethod } from '../../src/algorithms/bbn.js';
import { remixDraw, remixLabelWeight } from '../../src/algorithms/supervised.js';
import { ConcatenatedSampler, EpochSampler, createLabeledSampler } from '../../src/data/samplers.js';

describe('BBN cumulative α', () => {
  it('is 1 − (t/T)²: 1 at the start, 0.75 at half way, → 0 at the end', () => {
    expect(bbnAlpha(0, 100)).toBe(1);
    expect(bbnAlpha(50, 100)).toBeCloseTo(0.75, 12);
    expect(bbnAlpha(99, 100)).toBeCloseTo(1 - 0.99 ** 2, 12);
  });
});

describe('BBN batches', () => {
  it("draws the slot's sampler (uniform by default) for the conventional branch and the reversed one for the re-balancing branch", () => {
    expect(bbnMethod.labeledSamplers?.({}, 'instance-balanced')).toEqual(['instance-balanced', 'reversed']);
    expect(bbnMethod.model?.({})).toEqual({ bbn: true });
  });
});

describe('Remix', () => {
  it('gives the label to the rarer class when the counts differ by κ and its mix weight is large enough', () => {
    // i is the head class (n_i/n_j = 10 ≥ κ = 3): with λ < τ the label goes entirely to j.
    expect(remixLabelWeight(100, 10, 0.3, 3, 0.5)).toBe(0);
    // i is the tail class (n_i/n_j = 0.1 ≤ 1/κ): with 1 − λ < τ the label goes entirely to i.
    expect(remixLabelWeight(10, 100, 0.7, 3, 0.5)).toBe(1);
    // Otherwise mixup's λ: close counts, or the rarer sample is not dominant enough.
    expect(remixLabelWeight(100, 50, 0.3, 3, 0.5)).toBe(0.3);
    expect(remixLabelWeight(100, 10, 0.6, 3, 0.5)).toBe(0.6);
    expect(remixLabelWeight(10, 100, 0.4, 3, 0.5)).toBe(0.4);
  });

  it('draws λ and the pairing as a pure function of (seed, step)', () => {
    const a = remixDraw(0, 5, 8);
    expect(remixDraw(0, 5, 8)).toEqual(a);
    expect(remixDraw(0, 6, 8).lambda).not.toBe(a.lambda);
    expect([...a.partner].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(a.lambda).toBeGreaterThanOrEqual(0);
    expect(a.lambda).toBeLessThan(1);
  });
});

describe('ConcatenatedSampler', () => {
  it("puts each sampler's batch in its own slice of the step's batch", () => {
    const labels = Int32Array.from([0, 0, 0, 0, 0, 0, 1, 2]);
    const uniform = new EpochSampler(labels.length, 0, 1);
    const reversed = createLabeledSampler('reversed', labels, 0, { iterations: 10, batchSize: 4 }, 4);
    const both = new ConcatenatedSampler([uniform, reversed]);
    const batch = both.batchAt(3, 8);
    expect(Array.from(batch.slice(0, 4))).toEqual(Array.from(uniform.batchAt(3, 4)));
    expect(Array.from(batch.slice(4))).toEqual(Array.from(reversed.batchAt(3, 4)));
    expect(() => both.batchAt(0, 7)).toThrow(/does not split into 2/);
  });
});
