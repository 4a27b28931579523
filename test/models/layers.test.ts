import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchNorm, LayerBuilder, conv2dSymmetric } from '../../src/models/layers.js';
import { kaimingNormalConv, xavierNormalLinear } from '../../src/models/init.js';
import { Rng } from '../../src/util/rng.js';
import { useCpu } from './setup.js';

beforeAll(useCpu);

function makeBn(channels: number): { bn: BatchNorm; dispose: () => void } {
  const b = new LayerBuilder(new Rng(0));
  const bn = b.batchNorm('bn', channels);
  return { bn, dispose: () => [...b.params, ...b.buffers].forEach((v) => v.variable.dispose()) };
}

describe('BatchNorm', () => {
  it('training forward normalises with the biased variance and updates running stats with momentum 0.1 and the unbiased variance', () => {
    const { bn, dispose } = makeBn(2);
    const before = tf.memory().numTensors;
    // [B=2, H=1, W=2, C=2]; channel 0 values 1,2,3,4 (mean 2.5, biased var 1.25, unbiased 5/3);
    // channel 1 values 0,0,0,8 (mean 2, biased var 12, unbiased 16).
    const x = tf.tensor4d([1, 0, 2, 0, 3, 0, 4, 8], [2, 1, 2, 2]);
    const y = bn.apply(x, true);
    const yv = Array.from(y.dataSync());
    const c0 = [1, 2, 3, 4].map((v) => (v - 2.5) / Math.sqrt(1.25 + 1e-5));
    const c1 = [0, 0, 0, 8].map((v) => (v - 2) / Math.sqrt(12 + 1e-5));
    const expected = [c0[0], c1[0], c0[1], c1[1], c0[2], c1[2], c0[3], c1[3]];
    yv.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    // running_mean = 0.9·0 + 0.1·mean; running_var = 0.9·1 + 0.1·unbiased var.
    const rm = Array.from(bn.runningMean.dataSync());
    const rv = Array.from(bn.runningVar.dataSync());
    expect(rm[0]).toBeCloseTo(0.25, 6);
    expect(rm[1]).toBeCloseTo(0.2, 6);
    expect(rv[0]).toBeCloseTo(0.9 + 0.1 * (5 / 3), 6);
    expect(rv[1]).toBeCloseTo(0.9 + 0.1 * 16, 6);
    x.dispose();
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    dispose();
  });

  it('evaluation forward uses the running stats and leaves them unchanged', () => {
    const { bn, dispose } = makeBn(1);
    bn.runningMean.assign(tf.tensor1d([1]));
    bn.runningVar.assign(tf.tensor1d([4]));
    bn.gamma.assign(tf.tensor1d([2]));
    bn.beta.assign(tf.tensor1d([0.5]));
    const x = tf.tensor2d([3, -1], [2, 1]);
    const y = bn.apply(x, false);
    const s = Math.sqrt(4 + 1e-5);
    expect(y.dataSync()[0]).toBeCloseTo((2 * 2) / s + 0.5, 5);
    expect(y.dataSync()[1]).toBeCloseTo((2 * -2) / s + 0.5, 5);
    expect(bn.runningMean.dataSync()[0]).toBe(1);
    expect(bn.runningVar.dataSync()[0]).toBe(4);
    tf.dispose([x, y]);
    dispose();
  });
});

describe('conv2dSymmetric', () => {
  it('pads 1 on every side at stride 2, as PyTorch padding=1 (not TF same)', () => {
    // 4x4 input 0..15, 3x3 all-ones filter, stride 2, pad 1: output (i,j) sums rows 2i-1..2i+1,
    // cols 2j-1..2j+1 of the zero-padded input. TF 'same' would pad 0 top/left, 1 bottom/right.
    const x = tf.tensor4d(Array.from({ length: 16 }, (_, i) => i), [1, 4, 4, 1]);
    const w = tf.ones([3, 3, 1, 1]) as tf.Tensor4D;
    const y = conv2dSymmetric(x, w, 2, 1);
    expect(y.shape).toEqual([1, 2, 2, 1]);
    const at = (r: number, c: number): number => (r < 0 || c < 0 || r > 3 || c > 3 ? 0 : r * 4 + c);
    const expected: number[] = [];
    for (const i of [0, 1]) {
      for (const j of [0, 1]) {
        let s = 0;
        for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) s += at(2 * i + dr, 2 * j + dc);
        expected.push(s);
      }
    }
    expect(Array.from(y.dataSync())).toEqual(expected); // [10, 24, 54, 90]
    tf.dispose([x, w, y]);
  });
});

describe('initialisers', () => {
  it('Kaiming-normal fan_out (relu gain) std sqrt(2/(out·k·k)) and Xavier-normal std sqrt(2/(in+out))', () => {
    const rng = new Rng(7);
    const w = kaimingNormalConv(rng, 3, 3, 64, 32);
    expect(w.shape).toEqual([3, 3, 64, 32]);
    const std = (t: tf.Tensor): number => Math.sqrt(tf.tidy(() => tf.moments(t).variance.dataSync()[0]));
    // 18432 samples: the sample std is within 2% of the target with overwhelming probability.
    expect(std(w) / Math.sqrt(2 / (32 * 9))).toBeCloseTo(1, 1);
    const l = xavierNormalLinear(rng, 128, 100);
    expect(l.shape).toEqual([128, 100]);
    expect(std(l) / Math.sqrt(2 / 228)).toBeCloseTo(1, 1);
    tf.dispose([w, l]);
  });
});
