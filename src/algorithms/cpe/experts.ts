/**
 * CPE's per-expert arithmetic (machengcheng2016/CPE-LTSSL semilearn/imb_algorithms/cpe/cpe.py
 * `train_step`): the logit adjustment of each expert's labeled loss, and the class-group weights
 * its unlabeled loss reduces to on one shared feature branch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../../ops/cross-entropy.js';
import { classRanks, priorOf } from '../class-prior.js';

/**
 * Each expert's additive adjustment of its labeled logits, τ_e·log π_l [C] (official
 * `logits + tau_lb_e * torch.log(p_hat_lb)`: a product, not the log(π^τ + 1e-12) of the
 * FixMatch-based repositories). τ = 0 / 2 / 4 fit a consistent / uniform / reversed unlabeled set.
 */
export function expertAdjustments(labeledCounts: readonly number[], taus: readonly number[]): number[][] {
  const logPrior = priorOf(labeledCounts).map(Math.log);
  return taus.map((tau) => logPrior.map((l) => tau * l));
}

/**
 * The weight of a pseudo-label's class in an expert's unlabeled loss: 1 + [rank ≥ cut₁] +
 * [rank ≥ cut₂], rank by labeled frequency (0 = head). The official loss trains three
 * batch-norm branches of each expert (head, medium, tail): H on every confident sample, M on
 * those labelled ≥ cut₁, T on those ≥ cut₂ (class indices), normalised by the number of terms.
 * With one shared branch (class-wise batch norm omitted, see cpe.ts) the three terms coincide
 * and the loss is this weighting.
 */
export function groupWeights(labeledCounts: readonly number[], cut1: number, cut2: number): number[] {
  return classRanks(labeledCounts).map((r) => 1 + (r >= cut1 ? 1 : 0) + (r >= cut2 ? 1 : 0));
}

/**
 * One expert's unlabeled loss: Σ_i g_{ŷ_i}·m_i·w_i·CE(z_i, ŷ_i) / (Σ_i g_{ŷ_i}·m_i + 1e-12), the
 * official normalisation by the count of (sample, branch) terms; 0 when nothing is confident.
 *
 * @param logitsStrong [B, C] (gradient flows). @param labels [B] int32. @param mask [B] in {0, 1}.
 * @param classWeight g [C] ({@link groupWeights}). @param weights [B] per-sample weights of an add-on, or null.
 * @returns a scalar the caller owns.
 */
export function expertUnlabeledLoss(logitsStrong: tf.Tensor2D, labels: tf.Tensor1D, mask: tf.Tensor1D, classWeight: readonly number[], weights: tf.Tensor1D | null): tf.Scalar {
  return tf.tidy(() => {
    // A one-hot product instead of gather: the labels come from an argmax on the tape.
    const g = tf.sum(tf.mul(tf.oneHot(labels, classWeight.length), tf.tensor1d([...classWeight])), 1);
    const terms = tf.mul(g, mask);
    const numerator = tf.sum(tf.mul(softmaxCrossEntropy(logitsStrong, labels), weights ? tf.mul(terms, weights) : terms));
    return tf.div(numerator, tf.add(tf.sum(terms), 1e-12)) as tf.Scalar;
  });
}
