import * as tf from '@tensorflow/tfjs-core';
import { type LayerBuilder, convBnAct, globalAvgPool } from './layers.js';
import type { NetParts } from './net-parts.js';

/** Channels of the five conv layers of cnn-small; max-pool 2x2 after the 2nd and 4th. */
export const CNN_SMALL_CHANNELS = [32, 32, 64, 64, 128] as const;
export const POOL_AFTER = new Set([1, 3]);

/**
 * `cnn-small`: [conv3x3(32)-BN-LReLU(0.1)] x2, maxpool2, [conv3x3(64)-BN-LReLU] x2, maxpool2,
 * conv3x3(128)-BN-LReLU, global average pool -> 128-d feature -> Linear(128, C).
 * Convs are bias-free with padding 1; init as the official WRN (Kaiming fan_out, BN 1/0, Xavier head).
 * Any input of at least 4x4 works (28x28x1 Fashion-MNIST, 32x32x3 CIFAR).
 * Variable names: `encoder.conv{i}.weight`, `encoder.bn{i}.{weight,bias,running_mean,running_var}`,
 * `classifier.classifier.{weight,bias}` (i = 1..5). The last block (conv5) is where BBN branches.
 */
export function cnnSmallParts(b: LayerBuilder, inputChannels: number): NetParts {
  let inC = inputChannels;
  const stage = (prefix: string, i: number, outC: number, from: number) => ({
    conv: b.conv(`${prefix}encoder.conv${i + 1}`, 3, from, outC, 1, 1),
    bn: b.batchNorm(`${prefix}encoder.bn${i + 1}`, outC),
  });
  const last = CNN_SMALL_CHANNELS.length - 1;
  const trunkStages = CNN_SMALL_CHANNELS.slice(0, last).map((outC, i) => {
    const s = stage('', i, outC, inC);
    inC = outC;
    return s;
  });
  const trunkOut = inC;
  return {
    featureDim: CNN_SMALL_CHANNELS[last],
    trunk: (x, training) =>
      tf.tidy(() => {
        let h = x;
        trunkStages.forEach(({ conv, bn }, i) => {
          h = convBnAct(conv, bn, h, training);
          if (POOL_AFTER.has(i)) h = tf.maxPool(h, 2, 2, 'valid');
        });
        return h;
      }),
    lastBlock: (prefix) => {
      const { conv, bn } = stage(prefix, last, CNN_SMALL_CHANNELS[last], trunkOut);
      return (h, training) => tf.tidy(() => globalAvgPool(convBnAct(conv, bn, h, training)));
    },
    headPrefix: 'classifier.classifier',
    headInit: 'xavier',
  };
}
