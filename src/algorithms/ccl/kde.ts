/**
 * CCL's kernel-density losses and energy selection (zhouzihao11/CCL loss/semiConLoss.py and
 * train.py), as tensor functions. Features are L2-normalised projections, so exp(f·g / T) is a
 * Gaussian kernel exp(−‖f − g‖² / 2T) up to a constant: a class's mean kernel is its density
 * estimate, and dividing by the class's mass makes the estimate class-balanced.
 */
import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from '../../ops/stop-gradient.js';

/** Kernel temperature of both losses (official `temperature=0.1`, and `/ 0.1` in `unlabelProbability`). */
export const CCL_KERNEL_TEMPERATURE = 0.1;
/** Label-propagation weight α of `unlabelProbability` (official `alpha = 0.2`). */
export const CCL_PROPAGATION_ALPHA = 0.2;
/** Sharpening power of the contrastive targets (official `sharp(·, 4.0)`). */
export const CCL_SHARPEN_POWER = 4;
/**
 * Terms of the Neumann series that replaces the official `torch.inverse(I − α·S)` (tfjs has no
 * matrix inverse): S is row-stochastic, so the error after K terms is at most α^(K+1) / (1 − α),
 * 0.2^21 / 0.8 ≈ 3e-15 here, far below float32 resolution.
 */
export const CCL_NEUMANN_TERMS = 20;

/** Row-wise x / max(‖x‖, 1e-12) (PyTorch `F.normalize`). @param x [N, D]. @returns [N, D]; the caller owns it. */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12)) as tf.Tensor2D);
}

/** p^T / Σ p^T per row, without gradient (official `sharp(a, T)`, which detaches). @returns [N, C]; the caller owns it. */
export function sharpen(p: tf.Tensor2D, power: number = CCL_SHARPEN_POWER): tf.Tensor2D {
  return tf.tidy(() => {
    const a = tf.pow(stopGradient(p), power);
    return tf.div(a, tf.sum(a, 1, true)) as tf.Tensor2D;
  });
}

/**
 * CCL's energy score, −logsumexp(z / T) with T = 1 (official `-torch.logsumexp(logits_co / args.T)`);
 * low energy = confident. @param logits [B, C]. @returns [B]; the caller owns it.
 */
export function energyScore(logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.neg(tf.logSumExp(logits, 1)) as tf.Tensor1D);
}

/** 1 where the energy is at or below the threshold (official `energy.le(-8.75)`), else 0. @returns [B] float32; the caller owns it. */
export function energySelection(logits: tf.Tensor2D, threshold: number): tf.Tensor1D {
  // −E ≥ −t rather than E ≤ t: the tape passes through here, and LessEqual has no gradient in tfjs.
  return tf.tidy(() => tf.cast(tf.greaterEqual(tf.logSumExp(logits, 1), -threshold), 'float32') as tf.Tensor1D);
}

/**
 * The class-balanced, label-propagated density posterior of unlabeled features (official
 * `unlabelProbability`): with kernels K_ij = exp(u_i·l_j / T) to the labeled support (labels Y,
 * [M, C], possibly soft), p_i = softmax_k log(Σ_j K_ij Y_jk / Σ_j Y_jk), then propagated over the
 * unlabeled batch, X = (1 − α)·(I − α·S)^{−1}·p with S = softmax_rows(U Uᵀ) (no temperature, as
 * the official code), computed as the series X ← (1 − α)p + α·S·X ({@link CCL_NEUMANN_TERMS}).
 *
 * @param support [M, P] normalised features. @param unlabeled [N, P] normalised features.
 * @param labels [M, C] class memberships of the support. @returns [N, C] (rows sum to 1); the caller owns it.
 */
export function propagatedDensityPosterior(support: tf.Tensor2D, unlabeled: tf.Tensor2D, labels: tf.Tensor2D, temperature = CCL_KERNEL_TEMPERATURE, alpha = CCL_PROPAGATION_ALPHA): tf.Tensor2D {
  return tf.tidy(() => {
    const s = tf.softmax(tf.matMul(unlabeled, unlabeled, false, true)) as tf.Tensor2D;
    const kernel = tf.exp(tf.div(tf.matMul(unlabeled, support, false, true), temperature)) as tf.Tensor2D;
    const density = tf.log(tf.div(tf.matMul(kernel, labels), tf.sum(labels, 0)));
    const p = tf.mul(tf.softmax(density as tf.Tensor2D), 1 - alpha) as tf.Tensor2D;
    let x = p;
    for (let k = 0; k < CCL_NEUMANN_TERMS; k++) x = tf.add(p, tf.mul(tf.matMul(s, x), alpha)) as tf.Tensor2D;
    return x;
  });
}

/** −mean_i Σ_k a_ik log b_ik (official `crossLoss`). @returns a scalar; the caller owns it. */
export function crossLoss(a: tf.Tensor2D, b: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(a, tf.log(b)), 1))) as tf.Scalar);
}

/**
 * CCL's unlabeled density loss (official `SemiConLoss.forward`): the target is the sharpened
 * posterior of the weak views (no gradient), the predictions up_v those of K strong views, and the
 * loss (Σ_v crossLoss(aim, up_v) + crossLoss(ū, ū)) / (K + 1) with ū the mean of the up_v: the
 * official (crossLoss(aim, up₁) + crossLoss(aim, up₂) + crossLoss(ū, ū)) / 3 at K = 2.
 *
 * @param support [M, P], @param weak [N, P], @param strong K views of [N, P], normalised features;
 * @param labels [M, C]. @returns a scalar; the caller owns it.
 */
export function densityConsistencyLoss(support: tf.Tensor2D, weak: tf.Tensor2D, strong: readonly tf.Tensor2D[], labels: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const aim = sharpen(propagatedDensityPosterior(stopGradient(support), stopGradient(weak), labels));
    const ups = strong.map((u) => propagatedDensityPosterior(support, u, labels));
    const mean = tf.div(tf.addN(ups), ups.length) as tf.Tensor2D;
    return tf.div(tf.addN([...ups.map((up) => crossLoss(aim, up)), crossLoss(mean, mean)]), ups.length + 1) as tf.Scalar;
  });
}

/**
 * The class-balanced continuous contrastive loss (official `softConLoss.forward`): over features F
 * [M, P] with soft labels Y [M, C], kernels K = exp(F Fᵀ / T) without the diagonal, the logit of
 * row i for class k is log(Σ_{j≠i} K_ij Y_jk / (Σ_j Y_jk − Y_ik)), and the loss is the soft
 * cross-entropy of rows from `firstAnchor` on (the official code drops the C class centres as
 * anchors) against their own labels, −Σ_i w_i Σ_k Y_ik log softmax(logit_i)_k / Σ_i w_i.
 *
 * `rowWeights` [M] in {0, 1} stands for the official selection `f3[idx]`: a row of weight 0 is
 * neither an anchor nor part of any class's support, exactly as if it were not in F (its labels
 * are zeroed before the sums); this keeps the shapes fixed where the official code gathers.
 *
 * @returns a scalar; the caller owns it.
 */
export function continuousContrastiveLoss(features: tf.Tensor2D, labels: tf.Tensor2D, firstAnchor: number, rowWeights: tf.Tensor1D, temperature = CCL_KERNEL_TEMPERATURE): tf.Scalar {
  return tf.tidy(() => {
    const m = features.shape[0];
    const y = tf.mul(labels, tf.expandDims(rowWeights, 1)) as tf.Tensor2D;
    const offDiagonal = tf.sub(1, tf.eye(m));
    const kernel = tf.mul(tf.exp(tf.div(tf.matMul(features, features, false, true), temperature)), offDiagonal) as tf.Tensor2D;
    const mass = tf.sub(tf.sum(y, 0, true), y);
    const logits = tf.log(tf.div(tf.matMul(kernel, y), mass)) as tf.Tensor2D;
    const anchors = m - firstAnchor;
    const anchorLogits = tf.slice(logits, [firstAnchor, 0], [anchors, -1]) as tf.Tensor2D;
    const anchorLabels = tf.slice(y, [firstAnchor, 0], [anchors, -1]);
    const w = tf.slice(rowWeights, [firstAnchor], [anchors]);
    const perRow = tf.neg(tf.sum(tf.mul(anchorLabels, tf.logSoftmax(anchorLogits)), 1));
    return tf.div(tf.sum(tf.mul(perRow, w)), tf.maximum(tf.sum(w), 1e-12)) as tf.Scalar;
  });
}
