/**
 * What a base learner hands to its add-on chain unchanged: the add-ons' loss terms added to its
 * own total, and, for a learner that keeps no state of its own, its whole life cycle.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Algorithm } from './algorithm.js';
import type { AddOnChain } from './add-on.js';

/**
 * `total + Σ terms`, added one at a time in the chain's order: the same float sums as the
 * learners wrote by hand, so step-for-step comparisons with the official code keep holding.
 */
export function plusLossTerms(total: tf.Scalar, terms: Readonly<Record<string, tf.Scalar>>): tf.Scalar {
  let sum = total;
  for (const term of Object.values(terms)) sum = tf.add(sum, term) as tf.Scalar;
  return sum;
}

/** The members of an {@link Algorithm} that a learner without state of its own leaves to its add-ons. */
export type AddOnLifecycle = Pick<Algorithm, 'afterStep' | 'priorEstimates' | 'state' | 'restore' | 'dispose'>;

/** After-step bookkeeping, prior estimates, state and disposal, all the add-ons'. */
export function addOnLifecycle(addOns: AddOnChain): AddOnLifecycle {
  return {
    afterStep(pseudoLabels, stepCtx) {
      if (pseudoLabels) addOns.afterStep(pseudoLabels, stepCtx);
    },
    priorEstimates: () => addOns.priorEstimates(),
    state: () => addOns.state(),
    restore: (state) => addOns.restore(state),
    dispose: () => addOns.dispose(),
  };
}
