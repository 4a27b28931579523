import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useCpuBackend, expectNoLeak } from '../helpers/tf-cpu.js';
import { guessLabels, mixWithPartner, mixupDraw, sharpen } from '../../src/algorithms/index.js';
import { Rng } from '../../src/util/rng.js';
import { sampleBeta, sampleGamma } from '../../src/util/beta.js';

beforeAll(useCpuBackend);

const rows = (t: tf.Tensor): number[][] => t.arraySync() as number[][];

describe('sharpen and the label guess (mixmatch.py: mean of the K views, then p^(1/T) / Σ p^(1/T))', () => {
  it('sharpens by hand: [0.6, 0.4] at T = 0.5 is [0.36, 0.16] / 0.52', () => {
    const out = expectNoLeak(() => {
      const p = tf.tensor2d([[0.6, 0.4]]);
      const s = sharpen(p, 0.5);
      const v = rows(s);
      tf.dispose([p, s]);
      return v;
    });
    expect(out[0][0]).toBeCloseTo(0.692308, 5);
    expect(out[0][1]).toBeCloseTo(0.307692, 5);
  });

  it('averages K = 2 views then sharpens: ([0.6, 0.4] + [0.8, 0.2]) / 2 = [0.7, 0.3] -> [0.49, 0.09] / 0.58', () => {
    const { mean, guess } = expectNoLeak(() => {
      const views = [tf.tensor2d([[0.6, 0.4]]), tf.tensor2d([[0.8, 0.2]])];
      const g = guessLabels(views, 0.5);
      const out = { mean: rows(g.mean), guess: rows(g.guess) };
      tf.dispose([...views, g.mean, g.guess]);
      return out;
    });
    expect(mean[0][0]).toBeCloseTo(0.7, 6);
    expect(guess[0][0]).toBeCloseTo(0.844828, 5);
    expect(guess[0][1]).toBeCloseTo(0.155172, 5);
  });

  it('T = 1 leaves the distribution unchanged; T <= 0 is refused', () => {
    const p = tf.tensor2d([[0.1, 0.2, 0.7]]);
    const s = sharpen(p, 1);
    expect(rows(s)[0].map((v) => Number(v.toFixed(6)))).toEqual([0.1, 0.2, 0.7]);
    expect(() => sharpen(p, 0)).toThrow(/temperature must be > 0/);
    tf.dispose([p, s]);
  });
});

describe('MixMatch mixup with the label guess, a fixed λ and permutation', () => {
  it('mixes images and targets row by row with their partners', () => {
    // One labeled image (label 1 of 2 classes) and one unlabeled image with K = 2 weak views.
    // Guess q = Sharpen(([0.6, 0.4] + [0.8, 0.2]) / 2, 0.5) = [0.844828, 0.155172] (test above).
    // Targets [one-hot(1) | q | q]; λ' = 0.7; partner = [2, 0, 1]:
    //   row 0 = 0.7·[0, 1] + 0.3·q = [0.253448, 0.746552]
    //   row 1 = 0.7·q + 0.3·[0, 1] = [0.591379, 0.408621]
    //   row 2 = 0.7·q + 0.3·q = q
    // Images (1x1x1) [10 | 20 | 30]: row 0 = 7 + 9 = 16, row 1 = 14 + 3 = 17, row 2 = 21 + 6 = 27.
    const out = expectNoLeak(() => {
      const views = [tf.tensor2d([[0.6, 0.4]]), tf.tensor2d([[0.8, 0.2]])];
      const { mean, guess } = guessLabels(views, 0.5);
      const labeled = tf.tensor2d([[0, 1]]);
      const targets = tf.concat([labeled, guess, guess], 0);
      const images = tf.tensor4d([10, 20, 30], [3, 1, 1, 1]);
      const partner = Int32Array.from([2, 0, 1]);
      const mixedTargets = mixWithPartner(targets, partner, 0.7);
      const mixedImages = mixWithPartner(images, partner, 0.7);
      const r = { targets: rows(mixedTargets), images: Array.from(mixedImages.dataSync()) };
      tf.dispose([...views, mean, guess, labeled, targets, images, mixedTargets, mixedImages]);
      return r;
    });
    expect(out.targets[0][0]).toBeCloseTo(0.253448, 5);
    expect(out.targets[0][1]).toBeCloseTo(0.746552, 5);
    expect(out.targets[1][0]).toBeCloseTo(0.591379, 5);
    expect(out.targets[1][1]).toBeCloseTo(0.408621, 5);
    expect(out.targets[2][0]).toBeCloseTo(0.844828, 5);
    expect(out.images[0]).toBeCloseTo(16, 4);
    expect(out.images[1]).toBeCloseTo(17, 4);
    expect(out.images[2]).toBeCloseTo(27, 4);
  });

  it('draws λ\' = max(λ, 1 − λ) >= ½ and a permutation of all rows, the same for the same (seed, step)', () => {
    const a = mixupDraw(3, 17, 10, 0.5);
    const b = mixupDraw(3, 17, 10, 0.5);
    expect(a).toEqual(b);
    expect(a.lambda).toBe(Math.max(a.beta, 1 - a.beta));
    expect(a.lambda).toBeGreaterThanOrEqual(0.5);
    expect(Array.from(a.partner).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(mixupDraw(3, 18, 10, 0.5).beta).not.toBe(a.beta);
  });

  it('samples Beta(α, α) with mean ½ and variance 1 / (4(2α + 1)); Gamma(k) with mean k', () => {
    const rng = new Rng(1);
    for (const alpha of [0.5, 0.75, 2]) {
      const n = 20000;
      const xs = Array.from({ length: n }, () => sampleBeta(rng, alpha, alpha));
      const mean = xs.reduce((s, x) => s + x, 0) / n;
      const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
      expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
      // α = 0.5: 1/8 = 0.125; α = 0.75: 1/10; α = 2: 1/20.
      expect(Math.abs(variance - 1 / (4 * (2 * alpha + 1)))).toBeLessThan(0.006);
      expect(xs.every((x) => x >= 0 && x <= 1)).toBe(true);
    }
    const gammas = Array.from({ length: 20000 }, () => sampleGamma(rng, 0.3));
    expect(Math.abs(gammas.reduce((s, x) => s + x, 0) / gammas.length - 0.3)).toBeLessThan(0.02);
  });
});
