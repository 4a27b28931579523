import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useCpuBackend, expectNoLeak } from '../helpers/tf-cpu.js';
import { PredictionQueue, alignDistribution, alignmentTarget, resolveDistAlign, rotateQuarterTurns, rotationDraw, sharpen } from '../../src/algorithms/index.js';

beforeAll(useCpuBackend);

const rows = (t: tf.Tensor): number[][] => t.arraySync() as number[][];

describe('ReMixMatch distribution alignment (lib/models/dist_align.py)', () => {
  it('p̃ = normalise(p · (π + ε) / (p̄ + ε)) against the labeled distribution, by hand', () => {
    // p = [[0.5, 0.3, 0.2], [0.2, 0.2, 0.6]]; an empty queue, so p̄ = this batch's mean [0.35, 0.25, 0.4].
    // π from labeled counts [6, 3, 1] = [0.6, 0.3, 0.1]; ratio (π + 1e-6)/(p̄ + 1e-6) = [1.714284, 1.199999, 0.250002].
    // Row 0: [0.857142, 0.360000, 0.050000] / 1.267142 = [0.676437, 0.284104, 0.039459].
    // Row 1: [0.342857, 0.240000, 0.150001] / 0.732858 = [0.467835, 0.327485, 0.204680].
    const queue = new PredictionQueue(3, 128);
    const target = alignmentTarget([6, 3, 1], 1);
    [0.6, 0.3, 0.1].forEach((v, k) => expect(target[k]).toBeCloseTo(v, 12));
    const out = expectNoLeak(() => {
      const p = tf.tensor2d([[0.5, 0.3, 0.2], [0.2, 0.2, 0.6]]);
      const mean = tf.mean(p, 0);
      const a = alignDistribution(p, queue.meanWith(mean.dataSync()), target);
      const r = rows(a);
      tf.dispose([p, mean, a]);
      return r;
    });
    const expected = [[0.676437, 0.284104, 0.039459], [0.467835, 0.327485, 0.20468]];
    for (let i = 0; i < 2; i++) for (let k = 0; k < 3; k++) expect(out[i][k]).toBeCloseTo(expected[i][k], 5);
  });

  it('then sharpens at T = 0.5: row 0 [0.676437, 0.284104, 0.039459]² / Σ = [0.848, 0.1496, 0.00286]', () => {
    // 0.676437² = 0.457567, 0.284104² = 0.080715, 0.039459² = 0.001557; Σ = 0.539839.
    const out = expectNoLeak(() => {
      const a = tf.tensor2d([[0.676437, 0.284104, 0.039459]]);
      const s = sharpen(a, 0.5);
      const r = rows(s);
      tf.dispose([a, s]);
      return r;
    });
    expect(out[0][0]).toBeCloseTo(0.457567 / 0.539839, 5);
    expect(out[0][1]).toBeCloseTo(0.080715 / 0.539839, 5);
    expect(out[0][2]).toBeCloseTo(0.001557 / 0.539839, 5);
  });

  it('tempers the target: t = 0.5 gives sqrt([0.6, 0.3, 0.1]) / 1.638548 = [0.472734, 0.334273, 0.192993]', () => {
    const t = alignmentTarget([6, 3, 1], 0.5);
    expect(t[0]).toBeCloseTo(0.472734, 5);
    expect(t[1]).toBeCloseTo(0.334273, 5);
    expect(t[2]).toBeCloseTo(0.192993, 5);
  });

  it('the running mean covers the last `window` batches, the current one included, and restores exactly', () => {
    const q = new PredictionQueue(2, 3);
    q.push([0.2, 0.8]);
    q.push([0.4, 0.6]);
    // Window 3: (0.2 + 0.4 + 0.6) / 3 = 0.4.
    expect(q.meanWith([0.6, 0.4])[0]).toBeCloseTo(0.4, 6);
    q.push([0.6, 0.4]);
    // Full: the oldest (0.2) drops out: (0.4 + 0.6 + 1.0) / 3 = 0.666667.
    expect(q.meanWith([1, 0])[0]).toBeCloseTo(2 / 3, 6);
    q.push([1, 0]);
    expect(q.size).toBe(3);
    const r = new PredictionQueue(2, 3);
    r.restore(q.state());
    expect(Array.from(r.meanWith([0, 1]))).toEqual(Array.from(q.meanWith([0, 1])));
    // Window 1 is the current batch alone.
    expect(Array.from(new PredictionQueue(2, 1).meanWith([0.25, 0.75]))).toEqual([0.25, 0.75]);
  });

  it('auto is on when γ_l = γ_u and off otherwise (DASO configs); on/off are kept', () => {
    expect(resolveDistAlign('auto', 100, 100)).toBe('on');
    expect(resolveDistAlign('auto', 100, 1)).toBe('off');
    expect(resolveDistAlign('on', 100, 1)).toBe('on');
    expect(resolveDistAlign('off', 10, 10)).toBe('off');
  });
});

describe('ReMixMatch rotation self-supervision', () => {
  it('turns each image by its own r_i quarter turns as torch.rot90(x, r, [1, 2]) does', () => {
    // [[1, 2], [3, 4]]: one turn [[2, 4], [1, 3]]; two [[4, 3], [2, 1]]; three [[3, 1], [4, 2]].
    const out = expectNoLeak(() => {
      const img = [1, 2, 3, 4];
      const x = tf.tensor4d([...img, ...img, ...img, ...img, ...img.map((v) => v * 10)], [5, 2, 2, 1]);
      const r = rotateQuarterTurns(x, Int32Array.from([0, 1, 2, 3, 1]));
      const values = Array.from(r.dataSync());
      tf.dispose([x, r]);
      return values;
    });
    expect(out).toEqual([1, 2, 3, 4, 2, 4, 1, 3, 4, 3, 2, 1, 3, 1, 4, 2, 20, 40, 10, 30]);
  });

  it('draws the turns from (seed, step) alone, each of 0..3 about equally often', () => {
    const a = rotationDraw(5, 9, 4000);
    expect(Array.from(rotationDraw(5, 9, 4000))).toEqual(Array.from(a));
    const counts = [0, 0, 0, 0];
    for (const t of a) counts[t]++;
    for (const n of counts) expect(Math.abs(n - 1000)).toBeLessThan(100);
    expect(() => rotateQuarterTurns(tf.zeros([1, 2, 3, 1]) as tf.Tensor4D, Int32Array.of(1))).toThrow(/square/);
  });
});
