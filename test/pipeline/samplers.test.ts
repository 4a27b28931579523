/** Seeded samplers (src/data/samplers.ts): epoch permutations and class-aware sampling. */
import { describe, expect, it } from 'vitest';
import {
  ClassAwareSampler,
  EpochSampler,
  SamplerStream,
  classSamplingProbabilities,
  createLabeledSampler,
  epochPermutation,
  type LabeledSamplerName,
} from '../../src/data/samplers.js';
import { Rng, deriveSeed } from '../../src/util/rng.js';

const sorted = (a: Iterable<number>): number[] => [...a].sort((x, y) => x - y);

describe('EpochSampler', () => {
  it('epoch e of stream s is Rng(deriveSeed(seed, s, e)).permutation(count)', () => {
    const perm = epochPermutation(10, 42, SamplerStream.labeled, 3);
    expect(Array.from(perm)).toEqual(Array.from(new Rng(deriveSeed(42, 1, 3)).permutation(10)));
    expect(sorted(perm)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('cuts the concatenated epoch permutations into batches, straddling epochs', () => {
    const s = new EpochSampler(10, 42, SamplerStream.labeled);
    const stream = [...epochPermutation(10, 42, 1, 0), ...epochPermutation(10, 42, 1, 1), ...epochPermutation(10, 42, 1, 2)];
    // Batch 4 covers stream positions 16..19 and batch 2 covers 8..11 (epochs 0 and 1).
    expect(Array.from(s.batchAt(4, 4))).toEqual(stream.slice(16, 20));
    expect(Array.from(s.batchAt(2, 4))).toEqual(stream.slice(8, 12));
    // Each epoch holds every item exactly once.
    const firstEpoch = [0, 1].flatMap((t) => Array.from(s.batchAt(t, 5)));
    expect(sorted(firstEpoch)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('step t is a pure function of t (fresh sampler, any call order)', () => {
    const a = new EpochSampler(37, 9, SamplerStream.unlabeled);
    const forward = Array.from({ length: 30 }, (_, t) => Array.from(a.batchAt(t, 8)));
    const b = new EpochSampler(37, 9, SamplerStream.unlabeled);
    for (let t = 29; t >= 0; t--) expect(Array.from(b.batchAt(t, 8))).toEqual(forward[t]);
  });

  it('labeled and unlabeled streams and seeds differ', () => {
    const l = new EpochSampler(100, 1, SamplerStream.labeled).batchAt(0, 20);
    const u = new EpochSampler(100, 1, SamplerStream.unlabeled).batchAt(0, 20);
    const l2 = new EpochSampler(100, 2, SamplerStream.labeled).batchAt(0, 20);
    expect(Array.from(l)).not.toEqual(Array.from(u));
    expect(Array.from(l)).not.toEqual(Array.from(l2));
  });
});

describe('class-aware sampling, p_c ∝ n_c^q', () => {
  it('probabilities for q = 1, 0, ½', () => {
    expect(Array.from(classSamplingProbabilities([4, 1], 1))).toEqual([0.8, 0.2]);
    expect(Array.from(classSamplingProbabilities([4, 1], 0))).toEqual([0.5, 0.5]);
    const sqrt = classSamplingProbabilities([4, 1, 0], 0.5);
    expect(sqrt[0]).toBeCloseTo(2 / 3, 12);
    expect(sqrt[1]).toBeCloseTo(1 / 3, 12);
    expect(sqrt[2]).toBe(0);
  });

  it('q = 0 balances a 90/10 pool; draws are pure in the step', () => {
    const labels = Int32Array.from({ length: 100 }, (_, i) => (i < 90 ? 0 : 1));
    const s = new ClassAwareSampler(labels, 0, 3, 5);
    let tail = 0;
    const n = 200;
    for (let t = 0; t < n; t++) for (const p of s.batchAt(t, 50)) tail += labels[p];
    // 10000 draws, p = 0.5: ±4 sd = 0.02.
    expect(Math.abs(tail / (n * 50) - 0.5)).toBeLessThan(0.02);
    expect(Array.from(new ClassAwareSampler(labels, 0, 3, 5).batchAt(17, 50))).toEqual(Array.from(s.batchAt(17, 50)));
  });
});

describe('createLabeledSampler (the --sampler slot)', () => {
  const labels = Int32Array.from({ length: 100 }, (_, i) => (i < 90 ? 0 : 1));
  const tailShare = (name: LabeledSamplerName): number => {
    const s = createLabeledSampler(name, labels, 4);
    let tail = 0;
    for (let t = 0; t < 200; t++) for (const p of s.batchAt(t, 50)) tail += labels[p];
    return tail / (200 * 50);
  };

  it('instance-balanced is the epoch shuffle of the labeled stream: each image once per epoch', () => {
    const s = createLabeledSampler('instance-balanced', labels, 4);
    expect(Array.from(s.batchAt(0, 100))).toEqual(Array.from(new EpochSampler(100, 4, SamplerStream.labeled).batchAt(0, 100)));
    expect(sorted(s.batchAt(1, 100))).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('class-balanced draws the 10% class half the time, square-root at √10/(√90+√10) = 25%', () => {
    // 10000 draws: ±4 sd ≤ 0.02.
    expect(Math.abs(tailShare('class-balanced') - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(tailShare('square-root') - Math.sqrt(10) / (Math.sqrt(90) + Math.sqrt(10)))).toBeLessThan(0.02);
    expect(Math.abs(tailShare('instance-balanced') - 0.1)).toBeLessThan(1e-12);
  });
});
