import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../../ops/cross-entropy.js';

/**
 * DebiasPL's instance-group discrimination loss in probability space, as the official
 * frank-xwang/debiased-pseudo-labeling `main_DebiasPL.py` `CLDLoss` / `get_centroids` compute it:
 * 1. each unlabeled image joins group g_i = argMIN_c p^w_ic of its weak-view probabilities (the
 *    official `prob.argmin(dim=1)`, kept as written);
 * 2. group centroids c_g = mean of the weak probabilities of the group's images (an empty group
 *    is a zero row: the official count defaults to 1);
 * 3. L = mean_i CE(p^s_i · cᵀ / T, g_i) over the whole batch, T = 0.07.
 *
 * @param probsStrong [B, C] strong-view probabilities (gradient flows).
 * @param probsWeak [B, C] weak-view probabilities (no gradient). Caller owns the scalar.
 */
export function cldLoss(probsStrong: tf.Tensor2D, probsWeak: tf.Tensor2D, temperature = 0.07): tf.Scalar {
  return tf.tidy(() => {
    const numClasses = probsWeak.shape[1];
    const groups = tf.argMin(probsWeak, 1) as tf.Tensor1D;
    const members = tf.cast(tf.oneHot(groups, numClasses), 'float32') as tf.Tensor2D;
    const counts = tf.maximum(tf.sum(members, 0), 1);
    const centroids = tf.div(tf.matMul(members, probsWeak, true, false), tf.expandDims(counts, 1)) as tf.Tensor2D;
    const affinity = tf.div(tf.matMul(probsStrong, centroids, false, true), temperature) as tf.Tensor2D;
    return tf.mean(softmaxCrossEntropy(affinity, groups)) as tf.Scalar;
  });
}
