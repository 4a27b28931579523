import * as tf from '@tensorflow/tfjs-core';
import type { Algorithm, StepLoss, TrainBatch, StepContext } from '../algorithms/algorithm.js';
import { softmaxCrossEntropy } from '../ops/cross-entropy.js';

/**
 * The supervised step `ssl bench --step supervised` times: mean softmax cross-entropy of the
 * student on the labeled images only, as an `Algorithm`, so it runs through the trainer's own
 * `trainStep` (tape, SGD, EMA, read-back) with an empty unlabeled batch. No pseudo-labels: the
 * pseudo-label tensors are empty.
 *
 * Lives here until src/algorithms has a supervised learner; then the bench should use that.
 */
export function createSupervisedStep(): Algorithm {
  return {
    name: 'supervised',
    prepare() {},
    loss(batch: TrainBatch, ctx: StepContext): StepLoss {
      const { logits } = ctx.model.forward(batch.labeledImages, true);
      const lossLabeled = tf.mean(softmaxCrossEntropy(logits, batch.labeledLabels)) as tf.Scalar;
      const none = tf.zeros([0], 'int32') as tf.Tensor1D;
      return {
        total: lossLabeled,
        // A separate tensor: the trainer disposes the total it gets back from the tape.
        terms: { lossLabeled: tf.clone(lossLabeled) },
        pseudoLabels: { final: none, linear: none, mask: tf.zeros([0], 'float32') as tf.Tensor1D },
      };
    },
    afterStep() {},
    state() {
      return { json: {}, arrays: {} };
    },
    restore() {},
    dispose() {},
  };
}
