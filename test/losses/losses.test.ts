/**
 * Every loss against an independent float64 implementation of its formula (docs/methods.md §2,
 * and the official code each names): the value and the gradient (central finite differences of
 * the reference) on fixed logits, labels and counts, plus hand-computed values and edge cases.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { losses, lossHelpers } from '../../src/losses/index.js';
import { useCpuBackend } from '../helpers/tf-cpu.js';

beforeAll(useCpuBackend);

type Z = number[][];
const lse = (v: number[]): number => {
  const m = Math.max(...v);
  return m + Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0));
};
const ceOf = (zi: number[], yi: number): number => lse(zi) - zi[yi];
const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
const sum = (v: number[]): number => v.reduce((s, x) => s + x, 0);
const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

// Reference implementations, written from the formulas, in float64.
const ref = {
  ce: (z: Z, y: number[]) => mean(z.map((zi, i) => ceOf(zi, y[i]))),
  weighted: (z: Z, y: number[], n: number[], form: 'inverse-frequency' | 'log-inverse', p = 1) => {
    const w = form === 'log-inverse' ? n.map((c) => 1 - Math.log(c / Math.max(...n))) : n.map((c) => Math.pow(Math.min(...n) / c, p));
    return sum(z.map((zi, i) => w[y[i]] * ceOf(zi, y[i]))) / sum(y.map((c) => w[c]));
  },
  focal: (z: Z, y: number[], g: number) => mean(z.map((zi, i) => Math.pow(1 - Math.exp(-ceOf(zi, y[i])), g) * ceOf(zi, y[i]))),
  cbWeights: (n: number[], beta: number) => {
    const raw = n.map((c) => (1 - beta) / (1 - Math.pow(beta, c)));
    return raw.map((w) => (w / sum(raw)) * n.length);
  },
  cb: (z: Z, y: number[], n: number[], variant: 'softmax' | 'sigmoid' | 'focal', beta: number, g: number) => {
    const w = ref.cbWeights(n, beta);
    const per = z.map((zi, i) => {
      if (variant === 'softmax') return w[y[i]] * ceOf(zi, y[i]);
      return sum(
        zi.map((zc, c) => {
          const t = c === y[i] ? 1 : 0;
          const bce = softplus(zc) - t * zc;
          const pt = t ? sigmoid(zc) : 1 - sigmoid(zc);
          return w[y[i]] * (variant === 'focal' ? Math.pow(1 - pt, g) : 1) * bce;
        }),
      );
    });
    return sum(per) / z.length;
  },
  ldam: (z: Z, y: number[], n: number[], maxM: number, s: number, w?: number[]) => {
    const m0 = n.map((c) => Math.pow(c, -0.25));
    const m = m0.map((v) => (v * maxM) / Math.max(...m0));
    const ce = z.map((zi, i) => ceOf(zi.map((v, c) => s * (c === y[i] ? v - m[y[i]] : v)), y[i]));
    return w ? sum(ce.map((v, i) => w[y[i]] * v)) / sum(y.map((c) => w[c])) : mean(ce);
  },
  shifted: (z: Z, y: number[], shift: number[]) => mean(z.map((zi, i) => ceOf(zi.map((v, c) => v + shift[c]), y[i]))),
  lade: (z: Z, y: number[], n: number[], alpha: number, lambda: number) => {
    const C = n.length;
    const N = z.length;
    const pi = n.map((c) => c / sum(n));
    const prior = ref.shifted(z, y, pi.map(Math.log));
    let lader = 0;
    for (let k = 0; k < C; k++) {
      const members = z.filter((_, i) => y[i] === k);
      const first = sum(members.map((zi) => zi[k])) / (members.length + 1e-8);
      const second = lse(z.map((zi) => zi[k] - Math.log(pi[k] + 1e-9) + Math.log(1 / C + 1e-9))) - Math.log(N);
      lader -= pi[k] * (first - second - lambda * second * second);
    }
    return prior + alpha * lader;
  },
  /** `scoresFrom`: the logits σ is taken from, held fixed (mmdetection detaches it). */
  seesaw: (z: Z, y: number[], N: number[], p: number, q: number, scoresFrom: Z = z) =>
    mean(
      z.map((zi, i) => {
        const yi = y[i];
        const sm = scoresFrom[i].map((v) => Math.exp(v - lse(scoresFrom[i])));
        const adj = zi.map((v, j) => {
          if (j === yi) return v;
          const nj = Math.max(N[j], 1);
          const ni = Math.max(N[yi], 1);
          const M = nj < ni ? Math.pow(nj / ni, p) : 1;
          const r = sm[j] / Math.max(sm[yi], 1e-2);
          const Cf = r > 1 ? Math.pow(r, q) : 1;
          return v + Math.log(M * Cf);
        });
        return ceOf(adj, yi);
      }),
    ),
  las: (z: Z, y: number[], n: number[], head: number, tail: number) => {
    const eps = n.map((c) => tail + (head - tail) * Math.sin(((c - Math.min(...n)) * Math.PI) / (2 * (Math.max(...n) - Math.min(...n)))));
    return mean(
      z.map((zi, i) => {
        const logp = zi.map((v) => v - lse(zi));
        return (1 - eps[y[i]]) * -logp[y[i]] + eps[y[i]] * mean(logp.map((v) => -v));
      }),
    );
  },
};

/** Central finite differences of a reference loss w.r.t. the logits. */
function numericGrad(f: (z: Z) => number, z: Z, h = 1e-5): Z {
  return z.map((row, i) =>
    row.map((_, c) => {
      const plus = z.map((r) => [...r]);
      const minus = z.map((r) => [...r]);
      plus[i][c] += h;
      minus[i][c] -= h;
      return (f(plus) - f(minus)) / (2 * h);
    }),
  );
}

/** Our loss's value and gradient w.r.t. the logits, with no tensor left behind. */
function ours(fn: (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar, z: Z, y: number[]): { value: number; grad: Z } {
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => {
    const logits = tf.tensor2d(z);
    const labels = tf.tensor1d(y, 'int32');
    const { value, grad } = tf.valueAndGrad((l: tf.Tensor) => fn(l as tf.Tensor2D, labels))(logits);
    return { value: value.dataSync()[0], grad: (grad.arraySync() as Z) };
  });
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

function expectMatches(fn: (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar, reference: (z: Z) => number, z: Z, y: number[], tol = 2e-4): void {
  const { value, grad } = ours(fn, z, y);
  const want = reference(z);
  expect(Math.abs(value - want)).toBeLessThan(tol * Math.max(1, Math.abs(want)));
  const g = numericGrad(reference, z);
  for (let i = 0; i < z.length; i++) for (let c = 0; c < z[0].length; c++) expect(Math.abs(grad[i][c] - g[i][c]), `grad[${i}][${c}]`).toBeLessThan(tol);
}

// Fixed cases: a batch of 4 over 3 classes (class 2 absent), all-equal logits, and B = 1.
const counts = [50, 10, 2];
const cases: Array<{ name: string; z: Z; y: number[] }> = [
  { name: 'B=4, class 2 absent', z: [[1.2, -0.3, 0.5], [0.1, 0.8, -1.1], [-0.7, 0.2, 0.4], [2.0, 1.5, -0.2]], y: [0, 1, 0, 1] },
  { name: 'all-equal logits', z: [[0.3, 0.3, 0.3], [0.3, 0.3, 0.3]], y: [2, 0] },
  { name: 'B=1', z: [[-0.4, 0.9, 0.1]], y: [2] },
];

describe.each(cases)('losses on $name', ({ z, y }) => {
  it('crossEntropy', () => expectMatches((l, t) => losses.crossEntropy(l, t), (zz) => ref.ce(zz, y), z, y));
  it('weightedCrossEntropy, both forms', () => {
    expectMatches((l, t) => losses.weightedCrossEntropy(l, t, counts, { power: 0.5 }), (zz) => ref.weighted(zz, y, counts, 'inverse-frequency', 0.5), z, y);
    expectMatches((l, t) => losses.weightedCrossEntropy(l, t, counts, { form: 'log-inverse' }), (zz) => ref.weighted(zz, y, counts, 'log-inverse'), z, y);
  });
  it('focal, γ = 2', () => expectMatches((l, t) => losses.focal(l, t, counts, { gamma: 2 }), (zz) => ref.focal(zz, y, 2), z, y));
  it('classBalanced: softmax, sigmoid, focal', () => {
    for (const variant of ['softmax', 'sigmoid', 'focal'] as const) {
      expectMatches((l, t) => losses.classBalanced(l, t, counts, { variant, beta: 0.99, gamma: 1.5 }), (zz) => ref.cb(zz, y, counts, variant, 0.99, 1.5), z, y);
    }
  });
  it('ldam, unweighted and with DRW weights', () => {
    expectMatches((l, t) => losses.ldam(l, t, counts, { maxMargin: 0.5, scale: 4 }), (zz) => ref.ldam(zz, y, counts, 0.5, 4), z, y);
    const w = ref.cbWeights(counts, 0.9999);
    expectMatches((l, t) => losses.ldam(l, t, counts, { scale: 4, weights: w }), (zz) => ref.ldam(zz, y, counts, 0.5, 4, w), z, y);
  });
  it('balancedSoftmax and logitAdjusted', () => {
    expectMatches((l, t) => losses.balancedSoftmax(l, t, counts), (zz) => ref.shifted(zz, y, counts.map(Math.log)), z, y);
    const logPi = counts.map((c) => Math.log(c / sum(counts)));
    expectMatches((l, t) => losses.logitAdjusted(l, t, counts, { tau: 0.5 }), (zz) => ref.shifted(zz, y, logPi.map((v) => 0.5 * v)), z, y);
  });
  it('lade', () => expectMatches((l, t) => losses.lade(l, t, counts, { alpha: 0.1, lambda: 0.5 }), (zz) => ref.lade(zz, y, counts, 0.1, 0.5), z, y));
  it('seesaw with running counts', () => {
    const running = lossHelpers.updateSeesawCounts([40, 12, 3], y);
    expectMatches((l, t) => losses.seesaw(l, t, running), (zz) => ref.seesaw(zz, y, Array.from(running), 0.8, 2, z), z, y);
  });
  it('labelAwareSmoothing (concave)', () => {
    expectMatches((l, t) => losses.labelAwareSmoothing(l, t, counts, { head: 0.4, tail: 0.1 }), (zz) => ref.las(zz, y, counts, 0.4, 0.1), z, y);
  });
});

describe('hand-computed values', () => {
  it('CE of equal logits over C classes is ln C; Balanced Softmax with counts [1, 3] for class 0 is ln 4', () => {
    expect(ours((l, t) => losses.crossEntropy(l, t), [[0, 0, 0]], [1]).value).toBeCloseTo(Math.log(3), 6);
    // z + log n = [0, ln 3]: −log(1 / (1 + 3)).
    expect(ours((l, t) => losses.balancedSoftmax(l, t, [1, 3]), [[0, 0]], [0]).value).toBeCloseTo(Math.log(4), 6);
    // Its gradient is softmax(z + log n) − onehot = [1/4 − 1, 3/4].
    const g = ours((l, t) => losses.balancedSoftmax(l, t, [1, 3]), [[0, 0]], [0]).grad[0];
    expect(g[0]).toBeCloseTo(-0.75, 6);
    expect(g[1]).toBeCloseTo(0.75, 6);
  });

  it('LDAM margins: n^(−1/4) scaled to the largest 0.5', () => {
    const m = lossHelpers.ldamMargins([16, 1], 0.5);
    expect(m[0]).toBeCloseTo(0.25, 12);
    expect(m[1]).toBeCloseTo(0.5, 12);
  });

  it('class-balanced weights sum to C; β → 0 gives equal weights', () => {
    const w = lossHelpers.effectiveNumberWeights([100, 10, 1], 0.999);
    expect(sum(w)).toBeCloseTo(3, 12);
    expect(w[2]).toBeGreaterThan(w[1]);
    expect(lossHelpers.effectiveNumberWeights([100, 10, 1], 0)).toEqual([1, 1, 1]);
    expect(lossHelpers.classBalancedBiasInit(10)).toBeCloseTo(-Math.log(9), 12);
  });

  it('label-aware smoothing ε: head at n_max, tail at n_min, per shape', () => {
    expect(lossHelpers.smoothingPerClass([100, 1], { head: 0.4, tail: 0.1 })).toEqual([0.4, 0.1]);
    const mid = [100, 50.5, 1];
    expect(lossHelpers.smoothingPerClass(mid, { head: 0.4, tail: 0.1, shape: 'linear' })[1]).toBeCloseTo(0.25, 12);
    expect(lossHelpers.smoothingPerClass(mid, { head: 0.4, tail: 0.1, shape: 'concave' })[1]).toBeCloseTo(0.1 + 0.3 * Math.sin(Math.PI / 4), 12);
    expect(lossHelpers.smoothingPerClass(mid, { head: 0.4, tail: 0.1, shape: 'convex' })[1]).toBeCloseTo(0.4 + 0.3 * Math.sin(1.75 * Math.PI), 12);
  });

  it('LADE counts a class absent from the batch through its second term', () => {
    const z = cases[0].z;
    const y = cases[0].y; // class 2 absent
    const full = ours((l, t) => losses.lade(l, t, counts, { alpha: 1, lambda: 0.5 }), z, y).value;
    // Dropping class 2's term from the reference changes the value: the official code keeps it.
    const pi2 = 2 / 62;
    const second2 = lse(z.map((zi) => zi[2] - Math.log(pi2 + 1e-9) + Math.log(1 / 3 + 1e-9))) - Math.log(4);
    const absentTerm = pi2 * (second2 + 0.5 * second2 * second2);
    expect(absentTerm).toBeGreaterThan(1e-3);
    expect(full).toBeCloseTo(ref.lade(z, y, counts, 1, 0.5), 4);
  });
});

describe('consistency checks', () => {
  it('Balanced Softmax equals the logit-adjusted loss at τ = 1, value and gradient', () => {
    for (const { z, y } of cases) {
      const a = ours((l, t) => losses.balancedSoftmax(l, t, counts), z, y);
      const b = ours((l, t) => losses.logitAdjusted(l, t, counts, { tau: 1 }), z, y);
      expect(a.value).toBeCloseTo(b.value, 5);
      a.grad.forEach((row, i) => row.forEach((v, c) => expect(v).toBeCloseTo(b.grad[i][c], 6)));
    }
  });

  it('softmax equalization with λ below every class frequency equals CE; with every rare negative dropped it is CE over the rest', () => {
    for (const { z, y } of cases) {
      const eql = ours((l, t) => losses.equalization(l, t, counts, { lambda: 1e-6, gamma: 0.9, seed: 3 }), z, y);
      const ce = ours((l, t) => losses.crossEntropy(l, t), z, y);
      expect(eql.value).toBeCloseTo(ce.value, 6);
      eql.grad.forEach((row, i) => row.forEach((v, c) => expect(v).toBeCloseTo(ce.grad[i][c], 6)));
    }
    // λ = 0.1: class 2 (2/62) is rare; γ = 1 drops it from every softmax where it is not the label.
    const { z, y } = cases[0];
    const want = mean(z.map((zi, i) => ceOf(zi.slice(0, 2), y[i])));
    expect(ours((l, t) => losses.equalization(l, t, counts, { lambda: 0.1, gamma: 1 }), z, y).value).toBeCloseTo(want, 5);
  });
});

describe('bad input', () => {
  it('a zero-count class is refused, naming the class and the fix', () => {
    for (const fn of [losses.balancedSoftmax, losses.logitAdjusted, losses.lade, losses.ldam, losses.classBalanced, losses.weightedCrossEntropy, losses.labelAwareSmoothing, losses.equalization]) {
      expect(() => tf.tidy(() => fn(tf.tensor2d([[0, 1, 2]]), tf.tensor1d([0], 'int32'), [5, 0, 1]))).toThrow(/class 1 has count 0.*at least one labeled image per class/);
    }
  });
  it('counts of the wrong length are refused', () => {
    expect(() => tf.tidy(() => losses.balancedSoftmax(tf.tensor2d([[0, 1, 2]]), tf.tensor1d([0], 'int32'), [5, 1]))).toThrow(/classCounts has 2 entries, the logits 3 classes/);
  });
});
