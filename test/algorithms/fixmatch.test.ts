import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useCpuBackend, expectNoLeak } from '../helpers/tf-cpu.js';
import { maskedPseudoLabelLoss } from '../../src/algorithms/fixmatch.js';

beforeAll(useCpuBackend);

describe('maskedPseudoLabelLoss (FixMatch unlabeled loss, docs/methods.md §4)', () => {
  it('masks by max prob >= 0.95 and divides by the FULL unlabeled batch', () => {
    expectNoLeak(() => {
      const logitsStrong = tf.tensor2d([[2, 0], [0, 0], [1, 3]]);
      const target = tf.tensor2d([[0.97, 0.03], [0.6, 0.4], [0.01, 0.99]]);
      const { final, mask, lossU } = maskedPseudoLabelLoss(logitsStrong, target, 0.95);
      expect(Array.from(final.dataSync())).toEqual([0, 0, 1]);
      expect(Array.from(mask.dataSync())).toEqual([1, 0, 1]);
      // CE(row0, 0) = log(1 + e^-2) = 0.126928; CE(row2, 1) = log(1 + e^-2); divided by 3, not by 2.
      expect(lossU.dataSync()[0]).toBeCloseTo((2 * Math.log(1 + Math.exp(-2))) / 3, 5);
      tf.dispose([logitsStrong, target, final, mask, lossU]);
    });
  });

  it('gives 0, not NaN, when every sample is masked', () => {
    const logitsStrong = tf.tensor2d([[2, 0], [0, 1]]);
    const target = tf.tensor2d([[0.5, 0.5], [0.4, 0.6]]);
    const { final, mask, lossU } = maskedPseudoLabelLoss(logitsStrong, target, 0.95);
    expect(lossU.dataSync()[0]).toBe(0);
    tf.dispose([logitsStrong, target, final, mask, lossU]);
  });

  it('counts a confidence exactly at the threshold as confident (>=)', () => {
    const logitsStrong = tf.tensor2d([[0, 0]]);
    const target = tf.tensor2d([[0.25, 0.75]]);
    const { final, mask, lossU } = maskedPseudoLabelLoss(logitsStrong, target, 0.75);
    expect(Array.from(mask.dataSync())).toEqual([1]);
    expect(lossU.dataSync()[0]).toBeCloseTo(Math.log(2), 6);
    tf.dispose([logitsStrong, target, final, mask, lossU]);
  });
});
