import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TorchBackend, liveNativeTensors } from '../../../src/backend/torch/index.js';
import { torchSkipReason } from './helpers.js';

describe.skipIf(torchSkipReason !== null)('torch backend tensor storage', () => {
  it('round-trips float32, int32 and bool values; counts native tensors exactly', async () => {
    await tf.setBackend('torch');
    const backend = tf.backend() as TorchBackend;
    const before = [backend.numDataIds(), liveNativeTensors()];
    const f = tf.tensor2d([1.5, -2, 3.25, 0], [2, 2]);
    const i = tf.tensor1d([7, -8, 2147483647], 'int32');
    const b = tf.tensor1d([true, false, true], 'bool');
    expect(Array.from(await f.data())).toEqual([1.5, -2, 3.25, 0]);
    expect(f.dataSync()).toBeInstanceOf(Float32Array);
    expect(Array.from(i.dataSync())).toEqual([7, -8, 2147483647]);
    expect(i.dataSync()).toBeInstanceOf(Int32Array);
    expect(Array.from(b.dataSync())).toEqual([1, 0, 1]);
    expect([backend.numDataIds(), liveNativeTensors()]).toEqual([before[0] + 3, before[1] + 3]);
    tf.dispose([f, i, b]);
    expect([backend.numDataIds(), liveNativeTensors()]).toEqual(before);
  });

  it('reshape and clone share or copy data correctly; disposing one keeps the other', async () => {
    await tf.setBackend('torch');
    const x = tf.tensor1d([1, 2, 3, 4, 5, 6]);
    const r = tf.reshape(x, [2, 3]);
    const c = tf.clone(x);
    x.dispose();
    expect(await r.array()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    tf.dispose([r, c]);
  });

  it('uses tensors created on another backend (data moved on first use)', async () => {
    await tf.setBackend('cpu');
    const onCpu = tf.tensor1d([1, 2, 3]);
    await tf.setBackend('torch');
    const y = tf.mul(onCpu, 2);
    expect(Array.from(y.dataSync())).toEqual([2, 4, 6]);
    tf.dispose([onCpu, y]);
  });

  it('variables: assign replaces data and frees the old native tensor', async () => {
    await tf.setBackend('torch');
    const live = liveNativeTensors();
    const v = tf.tidy(() => tf.variable(tf.zeros([3])));
    for (let k = 0; k < 5; k++) tf.tidy(() => v.assign(tf.add(v, 1)));
    expect(Array.from(v.dataSync())).toEqual([5, 5, 5]);
    v.dispose();
    expect(liveNativeTensors()).toBe(live);
  });

  it('unsupported dtypes and unimplemented kernels fail with messages naming them', async () => {
    await tf.setBackend('torch');
    expect(() => tf.tensor1d(['a'], 'string')).toThrow(/dtype 'string' is not supported/);
    expect(() => tf.multinomial(tf.tensor2d([[0.5, 0.5]]), 2)).toThrow(/Multinomial/);
  });
});
