import type * as tf from '@tensorflow/tfjs-core';
import type { AddOnChain, LogitContext, UnlabeledView } from '../add-on.js';

/**
 * The labeled-weights point (2) of a learner whose labeled loss is cross-entropy on MIXED soft
 * labels: a weight per labeled sample has no row to apply to. The registry refuses add-ons that
 * require `labeled-sample-weights` on such a learner, so a weight here is an add-on that forgot
 * to declare it: thrown, naming the fix, never ignored. Creates no tensor when no add-on claims
 * the point.
 */
export function assertNoLabeledWeights(learner: string, addOns: AddOnChain, labels: tf.Tensor1D, ctx: LogitContext): void {
  if (addOns.labeledWeights(labels, ctx) !== null) {
    throw new Error(`${learner}: an add-on weights the labeled samples, and ${learner}'s labeled rows are mixed; the add-on must declare requires: ['labeled-sample-weights']`);
  }
}

/**
 * The threshold, strong-logits and unlabeled-weights points (4) of a learner without a confidence
 * mask whose unlabeled loss runs over mixed rows: likewise refused by the registry
 * (`confidence-threshold`, `unlabeled-logits-loss`, `unlabeled-sample-weights`) and thrown here if
 * an add-on forgot to require them.
 */
export function assertNoThresholdsOrUnlabeledWeights(learner: string, addOns: AddOnChain, target: tf.Tensor2D, view: UnlabeledView): void {
  if (typeof addOns.thresholds(target, view, Number.NaN) !== 'number') {
    throw new Error(`${learner}: an add-on sets per-sample thresholds, and ${learner} has no confidence mask; the add-on must declare requires: ['confidence-threshold']`);
  }
  if (addOns.adjustStrongLogits(view.logitsStrong, view) !== view.logitsStrong) {
    throw new Error(`${learner}: an add-on shifts the strong logits, and ${learner}'s unlabeled loss is not a cross-entropy on them; the add-on must declare requires: ['unlabeled-logits-loss']`);
  }
  if (addOns.unlabeledWeights(target, view) !== null) {
    throw new Error(`${learner}: an add-on weights the unlabeled samples, and ${learner}'s unlabeled loss runs over mixed rows; the add-on must declare requires: ['unlabeled-sample-weights']`);
  }
}
