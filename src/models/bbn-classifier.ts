import * as tf from '@tensorflow/tfjs-core';
import { ComposedClassifier } from './composed-classifier.js';
import type { Classifier } from './model.js';
import type { LayerBuilder } from './layers.js';
import type { Head } from './heads.js';
import type { LastBlock, NetParts } from './net-parts.js';

/**
 * BBN's bilateral-branch network (Megvii-Nanjing/BBN `network.py`, `combiner.py`): one trunk, a
 * conventional and a re-balancing copy of the last block, one classifier on the concatenated
 * features [f_c ; f_r] (featureDim = 2·d). `forward` is BBN's inference: both branches on the same
 * image with α = 0.5, where the ×2 of the training mix cancels. Re-balancing variables are the
 * plain net's names prefixed `rb.`.
 */
export class BbnClassifier extends ComposedClassifier {
  constructor(
    net: string,
    numClasses: number,
    builder: LayerBuilder,
    parts: NetParts,
    private readonly conventional: LastBlock,
    private readonly rebalancing: LastBlock,
    head: Head,
    headVariables: Iterable<string>,
  ) {
    const encode = (x: tf.Tensor4D, training: boolean): tf.Tensor2D =>
      tf.tidy(() => {
        const h = parts.trunk(x, training);
        return tf.concat([conventional(h, training), rebalancing(h, training)], 1);
      });
    super(net, numClasses, 2 * parts.featureDim, builder, encode, head, headVariables);
    this.trunk = parts.trunk;
  }

  private readonly trunk: NetParts['trunk'];

  /**
   * BBN's training forward: the conventional branch on `xc`, the re-balancing branch on `xr`, each
   * with its own trunk pass (the official code runs the model twice, so BatchNorm sees each batch
   * on its own), and logits = W·(2·[α·f_c ; (1 − α)·f_r]) + b.
   */
  forwardMixed(xc: tf.Tensor4D, xr: tf.Tensor4D, alpha: number, training: boolean): tf.Tensor2D {
    this.assertUsable();
    return tf.tidy(() => {
      const fc = this.conventional(this.trunk(xc, training), training);
      const fr = this.rebalancing(this.trunk(xr, training), training);
      const mixed = tf.mul(tf.concat([tf.mul(fc, alpha), tf.mul(fr, 1 - alpha)], 1), 2) as tf.Tensor2D;
      return this.logitsOf(mixed, training);
    });
  }
}

/** True when `model` has BBN's two branches. */
export function isBbnClassifier(model: Classifier): model is BbnClassifier {
  return model instanceof BbnClassifier;
}
