import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../ops/cross-entropy.js';
import type { AddOnChain, LogitContext } from './add-on.js';
import type { LabeledLoss } from './method.js';

/**
 * A base learner's labeled loss with its add-ons: the labeled logits adjusted by the chain
 * (logit adjustment), then the slot's loss, or — when an add-on weights the labeled samples (SAW)
 * — mean_i w_i·CE(z_i, y_i) over the whole batch (USB `saw.py`: `(ce_loss(..., 'none') * w).mean()`).
 *
 * @param logits [B_l, C] (gradient flows). @param labels [B_l] int32. Caller owns the scalar.
 */
export function labeledTerm(loss: LabeledLoss, addOns: AddOnChain, logits: tf.Tensor2D, labels: tf.Tensor1D, ctx: LogitContext): tf.Scalar {
  return tf.tidy(() => {
    const z = addOns.adjustLabeledLogits(logits, ctx);
    const weights = addOns.labeledWeights(labels, ctx);
    if (!weights) return loss(z, labels, ctx.step);
    return tf.mean(tf.mul(softmaxCrossEntropy(z, labels), weights)) as tf.Scalar;
  });
}
