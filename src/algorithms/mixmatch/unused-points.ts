import type * as tf from '@tensorflow/tfjs-core';
import type { AddOnChain, UnlabeledView } from '../add-on.js';

/**
 * The weight points (2, 4) of a learner whose losses run over MIXED rows: a weight per sample has
 * no row to apply to, and only a learner that weights the classes inside its soft targets
 * (ReMixMatch: `classWeights`) takes class weights. The registry refuses add-ons that require
 * what the learner lacks (`labeled-sample-weights`, `unlabeled-sample-weights`,
 * `class-loss-weights`), so a weight here is an add-on that forgot to declare it: thrown, naming
 * the fix, never ignored. Reads the chain's flags only: no tensor is made.
 */
export function assertNoSampleWeights(learner: string, addOns: AddOnChain, opts: { readonly classWeights: boolean }): void {
  if (addOns.weightsSamples) {
    throw new Error(`${learner}: an add-on weights samples, and ${learner}'s rows are mixed; the add-on must declare requires: ['labeled-sample-weights'] or ['unlabeled-sample-weights']`);
  }
  if (!opts.classWeights && addOns.weightsClasses) {
    throw new Error(`${learner}: an add-on weights the loss per class, and ${learner} does not; the add-on must declare requires: ['class-loss-weights']`);
  }
}

/**
 * The threshold and strong-logits points (4) of a learner without a confidence mask whose
 * unlabeled loss runs over mixed rows: likewise refused by the registry (`confidence-threshold`,
 * `unlabeled-logits-loss`) and thrown here if an add-on forgot to require them.
 */
export function assertNoThresholdsOrStrongLogits(learner: string, addOns: AddOnChain, target: tf.Tensor2D, view: UnlabeledView): void {
  if (typeof addOns.thresholds(target, view, Number.NaN) !== 'number') {
    throw new Error(`${learner}: an add-on sets per-sample thresholds, and ${learner} has no confidence mask; the add-on must declare requires: ['confidence-threshold']`);
  }
  if (addOns.adjustStrongLogits(view.logitsStrong, view) !== view.logitsStrong) {
    throw new Error(`${learner}: an add-on shifts the strong logits, and ${learner}'s unlabeled loss is not a cross-entropy on them; the add-on must declare requires: ['unlabeled-logits-loss']`);
  }
}
