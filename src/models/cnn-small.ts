import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../util/rng.js';
import { ComposedClassifier } from './composed-classifier.js';
import { LayerBuilder, bnAct, globalAvgPool } from './layers.js';

/** Channels of the five conv layers of cnn-small; max-pool 2x2 after the 2nd and 4th. */
const CNN_SMALL_CHANNELS = [32, 32, 64, 64, 128] as const;
const POOL_AFTER = new Set([1, 3]);

/**
 * `cnn-small`: [conv3x3(32)-BN-LReLU(0.1)] x2, maxpool2, [conv3x3(64)-BN-LReLU] x2, maxpool2,
 * conv3x3(128)-BN-LReLU, global average pool -> 128-d feature -> Linear(128, C).
 * Convs are bias-free with padding 1; init as the official WRN (Kaiming fan_out, BN 1/0, Xavier head).
 * Any input of at least 4x4 works (28x28x1 Fashion-MNIST, 32x32x3 CIFAR).
 * Variable names: `encoder.conv{i}.weight`, `encoder.bn{i}.{weight,bias,running_mean,running_var}`,
 * `classifier.classifier.{weight,bias}` (i = 1..5).
 */
export function createCnnSmall(numClasses: number, inputChannels: number, rng: Rng): ComposedClassifier {
  const b = new LayerBuilder(rng);
  let inC = inputChannels;
  const stages = CNN_SMALL_CHANNELS.map((outC, i) => {
    const conv = b.conv(`encoder.conv${i + 1}`, 3, inC, outC, 1, 1);
    const bn = b.batchNorm(`encoder.bn${i + 1}`, outC);
    inC = outC;
    return { conv, bn };
  });
  const featureDim = CNN_SMALL_CHANNELS[CNN_SMALL_CHANNELS.length - 1];
  const linear = b.linear('classifier.classifier', featureDim, numClasses);
  const encode = (x: tf.Tensor4D, training: boolean): tf.Tensor2D =>
    tf.tidy(() => {
      let h = x;
      stages.forEach(({ conv, bn }, i) => {
        h = bnAct(bn, conv.apply(h), training);
        if (POOL_AFTER.has(i)) h = tf.maxPool(h, 2, 2, 'valid');
      });
      return globalAvgPool(h);
    });
  return new ComposedClassifier('cnn-small', numClasses, featureDim, b, encode, linear);
}
