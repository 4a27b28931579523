import { describe, expect, it } from 'vitest';
import { TAU_GRID, bestTau, tauNormalize } from '../../src/algorithms/decoupled/tau-norm.js';
import { ncmParameters } from '../../src/algorithms/decoupled/ncm.js';

describe('τ-normalisation', () => {
  it('searches τ = 0, 0.1, …, 2.0', () => {
    expect(TAU_GRID).toHaveLength(21);
    expect(TAU_GRID[0]).toBe(0);
    expect(TAU_GRID[7]).toBeCloseTo(0.7, 12);
    expect(TAU_GRID[20]).toBe(2);
  });

  it('divides each class column by its norm to the power τ', () => {
    // [in = 2, out = 2]: class 0 column (3, 4) norm 5; class 1 column (0, 2) norm 2.
    const w = Float32Array.from([3, 0, 4, 2]);
    const half = tauNormalize(w, 2, 2, 0.5);
    expect(Array.from(half)).toEqual([3 / Math.sqrt(5), 0, 4 / Math.sqrt(5), 2 / Math.sqrt(2)].map((v) => Math.fround(v)));
    expect(Array.from(tauNormalize(w, 2, 2, 0))).toEqual(Array.from(w));
    const unit = tauNormalize(w, 2, 2, 1);
    expect(unit[0] ** 2 + unit[2] ** 2).toBeCloseTo(1, 6);
    expect(() => tauNormalize(w, 3, 2, 1)).toThrow(/expected 3x2/);
  });

  it('picks the best-scoring τ, the smaller on a tie', () => {
    expect(bestTau([0, 0.5, 1, 1.5], (t) => -((t - 1) ** 2)).tau).toBe(1);
    expect(bestTau([0, 0.5, 1], () => 0.7).tau).toBe(0);
  });
});

describe('NCM parameters', () => {
  // Four 2-d features, two per class.
  const features = Float32Array.from([2, 0, 4, 0, 0, 2, 0, 6]);
  const labels = Int32Array.from([0, 0, 1, 1]);

  it('centred-l2: W = 2c, b = −‖c‖² with c the class mean of the centred, unit-norm features', () => {
    const p = ncmParameters(features, labels, 2, 2, 'centred-l2');
    // mean (1.5, 2); centred rows (0.5,−2) (2.5,−2) (−1.5,0) (−1.5,4), each then divided by its norm.
    const unit = (x: number, y: number): [number, number] => [x / Math.hypot(x, y), y / Math.hypot(x, y)];
    const r = [unit(0.5, -2), unit(2.5, -2), unit(-1.5, 0), unit(-1.5, 4)];
    const c0 = [(r[0][0] + r[1][0]) / 2, (r[0][1] + r[1][1]) / 2];
    const c1 = [(r[2][0] + r[3][0]) / 2, (r[2][1] + r[3][1]) / 2];
    expect(Array.from(p.mean)).toEqual([1.5, 2]);
    // W is [D, C] row-major: W[d][c].
    [2 * c0[0], 2 * c1[0], 2 * c0[1], 2 * c1[1]].forEach((v, i) => expect(p.weight[i]).toBeCloseTo(v, 6));
    expect(p.bias[0]).toBeCloseTo(-(c0[0] ** 2 + c0[1] ** 2), 6);
    expect(p.bias[1]).toBeCloseTo(-(c1[0] ** 2 + c1[1] ** 2), 6);
    // The score ranks classes as −‖x̂ − c‖² does: x̂·W + b = −‖x̂ − c‖² + 1.
    const x = r[0];
    for (const [c, cc] of [c0, c1].entries()) {
      const score = x[0] * p.weight[c] + x[1] * p.weight[2 + c] + p.bias[c];
      expect(score).toBeCloseTo(1 - ((x[0] - cc[0]) ** 2 + (x[1] - cc[1]) ** 2), 6);
    }
  });

  it('cosine: unit class means of unit features, no centring, no bias', () => {
    const p = ncmParameters(features, labels, 2, 2, 'cosine');
    expect(Array.from(p.mean)).toEqual([0, 0]);
    expect(Array.from(p.weight)).toEqual([1, 0, 0, 1]);
    expect(Array.from(p.bias)).toEqual([0, 0]);
  });

  it('refuses a class with no feature', () => {
    expect(() => ncmParameters(features, labels, 2, 3, 'cosine')).toThrow(/classes 2 have no training feature/);
  });
});
