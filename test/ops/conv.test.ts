import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerTorchBackend } from '../../src/backend/torch/index.js';
import { conv2d } from '../../src/ops/conv.js';

const backends = ['cpu', ...(registerTorchBackend(1).ok ? ['torch'] : [])];

/** 1..n² laid out as [1, n, n, 1]. */
const grid = (n: number): tf.Tensor4D => tf.tensor4d(Array.from({ length: n * n }, (_, i) => i + 1), [1, n, n, 1]);
const ones3x3 = (): tf.Tensor4D => tf.ones([3, 3, 1, 1]) as tf.Tensor4D;

describe.each(backends)('conv2d with explicit padding (%s)', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });

  it('symmetric [1,1,1,1] at stride 2 is PyTorch Conv2d(padding=1): window sums by hand', () => {
    const before = tf.memory().numTensors;
    const y = tf.tidy(() => conv2d(grid(3), ones3x3(), 2, [1, 1, 1, 1]));
    expect(y.shape).toEqual([1, 2, 2, 1]);
    // Windows centred on (0,0), (0,2), (2,0), (2,2) of [[1,2,3],[4,5,6],[7,8,9]].
    expect(Array.from(y.dataSync())).toEqual([12, 16, 24, 28]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('asymmetric [0,1,0,1] pads only bottom and right (TF "same" at stride 2)', () => {
    const y = tf.tidy(() => conv2d(grid(4), ones3x3(), [2, 2], [0, 1, 0, 1]));
    expect(Array.from(y.dataSync())).toEqual([54, 45, 72, 54]);
    const same = tf.tidy(() => tf.conv2d(grid(4), ones3x3(), 2, 'same'));
    expect(Array.from(same.dataSync())).toEqual([54, 45, 72, 54]);
    tf.dispose([y, same]);
  });

  it('gradients: filter gradient sums the inputs each tap saw', () => {
    const [dx, dw] = tf.tidy(() =>
      tf.grads((x: tf.Tensor, w: tf.Tensor) => conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, [1, 1, 1, 1]))([grid(3), ones3x3()]),
    );
    // Centre tap sees x at (0,0),(0,2),(2,0),(2,2): 1+3+7+9; corner (0,0) tap sees only x(1,1) = 5.
    const w = dw.dataSync();
    expect(w[4]).toBe(20);
    expect(w[0]).toBe(5);
    // x(1,1) is in all four windows, x(0,0) in one.
    expect(dx.dataSync()[4]).toBe(4);
    expect(dx.dataSync()[0]).toBe(1);
    tf.dispose([dx, dw]);
  });

  it('rejects bad padding with a message naming the argument', () => {
    expect(() => conv2d(grid(3), ones3x3(), 1, [1, 1, -1, 1])).toThrow(/conv2d: pad/);
  });
});
