/** Seeded samplers (src/data/samplers.ts): epoch permutations and class-aware sampling. */
import { describe, expect, it } from 'vitest';
import {
  ClassAwareSampler,
  ClassCycleSampler,
  EpochSampler,
  ProgressiveSampler,
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
  const schedule = { iterations: 1000, batchSize: 50 };
  const labels = Int32Array.from({ length: 100 }, (_, i) => (i < 90 ? 0 : 1));
  const tailShare = (name: LabeledSamplerName): number => {
    const s = createLabeledSampler(name, labels, 4, schedule);
    let tail = 0;
    for (let t = 0; t < 200; t++) for (const p of s.batchAt(t, 50)) tail += labels[p];
    return tail / (200 * 50);
  };

  it('instance-balanced is the epoch shuffle of the labeled stream: each image once per epoch', () => {
    const s = createLabeledSampler('instance-balanced', labels, 4, schedule);
    expect(Array.from(s.batchAt(0, 100))).toEqual(Array.from(new EpochSampler(100, 4, SamplerStream.labeled).batchAt(0, 100)));
    expect(sorted(s.batchAt(1, 100))).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('class-balanced (class cycle) gives each class exactly half; square-root √10/(√90+√10) = 25%; reversed 90%', () => {
    expect(tailShare('class-balanced')).toBe(0.5);
    // 10000 draws: ±4 sd ≤ 0.02.
    expect(Math.abs(tailShare('reversed') - 0.9)).toBeLessThan(0.02);
    expect(Math.abs(tailShare('square-root') - Math.sqrt(10) / (Math.sqrt(90) + Math.sqrt(10)))).toBeLessThan(0.02);
    expect(Math.abs(tailShare('instance-balanced') - 0.1)).toBeLessThan(1e-12);
  });
});

describe('ClassCycleSampler (classifier-balancing ClassAwareSampler, 4 per class visit)', () => {
  // Class 0: 5 members, class 1: 2 members, class 2: 1 member.
  const labels = Int32Array.from([0, 0, 0, 0, 0, 1, 1, 2]);
  const s = new ClassCycleSampler(labels, 9, SamplerStream.labeled);

  it('each round visits every class once, 4 images per visit, in a shuffled class order', () => {
    const stream = Array.from(s.batchAt(0, 36)); // 3 rounds of 3 visits
    for (let v = 0; v < 9; v++) {
      const visit = stream.slice(4 * v, 4 * v + 4).map((i) => labels[i]);
      expect(new Set(visit).size, `visit ${v}`).toBe(1);
    }
    for (let r = 0; r < 3; r++) {
      const classes = [0, 1, 2].map((k) => labels[stream[12 * r + 4 * k]]);
      expect(sorted(classes)).toEqual([0, 1, 2]);
    }
  });

  it("a class's images cycle: each used once before any repeats", () => {
    const stream = Array.from(s.batchAt(0, 120));
    const ofClass0 = stream.filter((i) => labels[i] === 0); // 40 draws, 8 cycles of 5
    for (let k = 0; k < ofClass0.length; k += 5) expect(sorted(ofClass0.slice(k, k + 5))).toEqual([0, 1, 2, 3, 4]);
    const ofClass1 = stream.filter((i) => labels[i] === 1);
    for (let k = 0; k < ofClass1.length; k += 2) expect(sorted(ofClass1.slice(k, k + 2))).toEqual([5, 6]);
  });

  it('is a pure function of the step, and batches tile the stream', () => {
    const whole = Array.from(s.batchAt(0, 30));
    const parts = [0, 1, 2].flatMap((t) => Array.from(new ClassCycleSampler(labels, 9, SamplerStream.labeled).batchAt(t, 10)));
    expect(parts).toEqual(whole);
  });
});

describe('ProgressiveSampler', () => {
  const labels = Int32Array.from({ length: 100 }, (_, i) => (i < 90 ? 0 : 1));
  // 100 images, batch 50: 2 steps an epoch; 40 iterations = 20 epochs.
  const s = new ProgressiveSampler(labels, 1, SamplerStream.labeled, 40, 50);

  it('moves from instance- to class-balanced by epoch: t/T = 0, 0.5, 0.95', () => {
    expect(s.balance(0)).toBe(0);
    expect(s.balance(1)).toBe(0);
    expect(s.balance(20)).toBe(0.5);
    expect(s.balance(39)).toBe(0.95);
  });

  it('draws the tail class with (1 − t/T)·0.1 + (t/T)·0.5', () => {
    const share = (step: number): number => {
      let tail = 0;
      for (let r = 0; r < 40; r++) for (const p of new ProgressiveSampler(labels, r, SamplerStream.labeled, 40, 50).batchAt(step, 50)) tail += labels[p];
      return tail / 2000;
    };
    // 2000 draws each: ±4 sd ≤ 0.045.
    expect(Math.abs(share(0) - 0.1)).toBeLessThan(0.03);
    expect(Math.abs(share(39) - (0.05 * 0.1 + 0.95 * 0.5))).toBeLessThan(0.045);
  });
});
