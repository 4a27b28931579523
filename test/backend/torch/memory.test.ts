import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TorchBackend, liveNativeTensors } from '../../../src/backend/torch/index.js';
import { leakyRelu } from '../../../src/ops/activations.js';
import { batchNormTrain } from '../../../src/ops/batch-norm.js';
import { conv2d } from '../../../src/ops/conv.js';
import { softmaxCrossEntropy } from '../../../src/ops/cross-entropy.js';
import { emaUpdate } from '../../../src/ops/ema.js';
import { sgdUpdate } from '../../../src/ops/sgd.js';
import { torchSkipReason, waveTensor } from './helpers.js';

describe.skipIf(torchSkipReason !== null)('torch backend memory', () => {
  it('200 training steps keep tfjs tensors, backend dataIds and native tensors flat', async () => {
    await tf.setBackend('torch');
    const backend = tf.backend() as TorchBackend;
    const params = [
      tf.variable(tf.mul(waveTensor([3, 3, 3, 16]), 0.3), true, 'w1'),
      tf.variable(tf.ones([16]), true, 'g1'),
      tf.variable(tf.zeros([16]), true, 'b1'),
      tf.variable(tf.mul(waveTensor([3, 3, 16, 16], 1), 0.2), true, 'w2'),
      tf.variable(tf.mul(waveTensor([16, 4], 2), 0.3), true, 'fc'),
    ];
    const velocity = params.map((p) => tf.variable(tf.zerosLike(p), false));
    const ema = params.map((p) => tf.variable(tf.clone(p), false));
    const runningMean = tf.variable(tf.zeros([16]), false);
    // [4, 32, 32, 16] activations are 256 KiB: large enough for the allocator's cache.
    const x = waveTensor([4, 32, 32, 3]) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 1, 2, 3], 'int32');
    const counts = (): [number, number, number] => [tf.memory().numTensors, backend.numDataIds(), liveNativeTensors()];

    const step = (): number => {
      const { value, grads } = tf.variableGrads(() => {
        const h1 = conv2d(x, params[0] as tf.Variable<tf.Rank.R4>, 1, [1, 1, 1, 1]);
        const bn = batchNormTrain(h1, params[1] as tf.Variable<tf.Rank.R1>, params[2] as tf.Variable<tf.Rank.R1>, 1e-5);
        runningMean.assign(tf.add(tf.mul(runningMean, 0.9), tf.mul(bn.mean, 0.1)));
        const a1 = leakyRelu(bn.y as tf.Tensor4D, 0.1);
        const pooled1 = tf.maxPool(a1, 2, 2, 'valid');
        const h2 = leakyRelu(conv2d(pooled1, params[3] as tf.Variable<tf.Rank.R4>, 2, [1, 1, 1, 1]), 0.1);
        const pooled = tf.mean(h2, [1, 2]) as tf.Tensor2D;
        const logits = tf.matMul(pooled, params[4] as tf.Variable<tf.Rank.R2>) as tf.Tensor2D;
        return tf.mean(softmaxCrossEntropy(logits, labels as tf.Tensor1D)) as tf.Scalar;
      }, params);
      sgdUpdate(params, params.map((p) => grads[p.name]), velocity, { lr: 0.05, momentum: 0.9, weightDecay: 5e-4, nesterov: true });
      emaUpdate(ema, params, 0.99);
      const loss = value.dataSync()[0];
      tf.dispose([value, ...Object.values(grads)]);
      return loss;
    };

    const first = step();
    step();
    const start = counts();
    const alloc0 = backend.addon.allocatorStats();
    let last = first;
    for (let i = 1; i < 200; i++) {
      last = step();
      if (i % 50 === 0) expect(counts()).toEqual(start);
    }
    expect(counts()).toEqual(start);
    expect(start[2]).toBe(start[1]);
    // The caching allocator serves the repeated step's buffers from its cache: no growth in
    // live or cached bytes, and (nearly) no fresh allocations after warm-up.
    const alloc = backend.addon.allocatorStats();
    expect(alloc.liveBytes).toBe(alloc0.liveBytes);
    expect(alloc.cachedBytes).toBe(alloc0.cachedBytes);
    expect(alloc.misses).toBe(alloc0.misses);
    expect(alloc.hits).toBeGreaterThan(alloc0.hits + 1000);
    // Training did something: the loss went down.
    expect(last).toBeLessThan(first);
    tf.dispose([...params, ...velocity, ...ema, runningMean, x, labels]);
  });
});
