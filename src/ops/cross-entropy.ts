import * as tf from '@tensorflow/tfjs-core';
import { FAST_KERNELS, hasFastKernel, runFastKernel } from './fast-kernels.js';

/** Runs a fused cross-entropy kernel, keeping the loss and freeing the saved log-probabilities. */
function fusedLoss(name: string, inputs: Record<string, tf.Tensor>): tf.Tensor1D {
  const [loss, logProbs] = runFastKernel(name, inputs, {});
  logProbs.dispose();
  return loss as tf.Tensor1D;
}

/**
 * Per-sample softmax cross-entropy with integer targets: loss_i = logsumexp(z_i) − z_i[y_i].
 *
 * @param logits [B, C] float32 (borrowed).
 * @param labels [B] int32 class ids (borrowed).
 * @returns [B] float32, owned by the caller. No reduction: callers choose the denominator.
 * Labels must lie in [0, C). Fused forward and gradient on backends that provide them.
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  if (hasFastKernel(FAST_KERNELS.softmaxCrossEntropy)) {
    return tf.tidy(() => fusedLoss(FAST_KERNELS.softmaxCrossEntropy, { logits, labels: labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32') }));
  }
  return tf.tidy(() => {
    const numClasses = logits.shape[1];
    const logProbs = tf.logSoftmax(logits);
    const oneHot = tf.oneHot(tf.cast(labels, 'int32') as tf.Tensor1D, numClasses);
    return tf.neg(tf.sum(tf.mul(oneHot, logProbs), 1)) as tf.Tensor1D;
  });
}

/**
 * Per-sample cross-entropy against soft targets: loss_i = −Σ_k q_ik · log softmax(z_i)_k.
 *
 * @param logits [B, C] (borrowed). @param targets [B, C] probabilities (borrowed, no gradient).
 * @returns [B], owned by the caller.
 */
export function softCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
  if (hasFastKernel(FAST_KERNELS.softCrossEntropy)) return fusedLoss(FAST_KERNELS.softCrossEntropy, { logits, targets });
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1)) as tf.Tensor1D);
}

/**
 * Per-row −Σ_c w_c·t_c·log softmax(z)_c [B]: soft cross-entropy with class weights w [C] inside the
 * sum (SAW_SSL train_remix_cifar10.py `SemiLoss` on mixed soft labels); null weights give the plain
 * soft cross-entropy. Its gradient keeps the weighted mass: softmax(z)·Σ_c w_c·t_c − w ⊙ t.
 */
export function classWeightedSoftCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D, classWeights: tf.Tensor1D | null): tf.Tensor1D {
  return softCrossEntropy(logits, classWeights ? (tf.mul(targets, classWeights) as tf.Tensor2D) : targets);
}
