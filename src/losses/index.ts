import { crossEntropy, weightedCrossEntropy, weightedMean } from './cross-entropy.js';
import { balancedSoftmax, logitAdjusted, addLogPrior } from './logit-adjusted.js';
import { focal } from './focal.js';
import { classBalanced, classBalancedBiasInit } from './class-balanced.js';
import { ldam, ldamMargins } from './ldam.js';
import { lade } from './lade.js';
import { equalization } from './equalization.js';
import { seesaw, updateSeesawCounts } from './seesaw.js';
import { labelAwareSmoothing, smoothingPerClass } from './label-aware-smoothing.js';
import { effectiveNumberWeights, inverseFrequencyWeights, logInverseWeights, logPrior } from './class-weights.js';

/**
 * The losses as one namespace, `import { losses } from 'ssl-lt'`: each a pure function
 * `(logits [B, C], labels [B], classCounts, options) => scalar` whose JSDoc states its reduction.
 */
export const losses = {
  crossEntropy,
  weightedCrossEntropy,
  classBalanced,
  focal,
  ldam,
  balancedSoftmax,
  logitAdjusted,
  lade,
  equalization,
  seesaw,
  labelAwareSmoothing,
} as const;

/** Helpers the losses are built from (class weights, margins, the prior shift). */
export const lossHelpers = {
  addLogPrior,
  classBalancedBiasInit,
  effectiveNumberWeights,
  inverseFrequencyWeights,
  ldamMargins,
  logInverseWeights,
  logPrior,
  smoothingPerClass,
  updateSeesawCounts,
  weightedMean,
} as const;

export { crossEntropy };
export { labeledLosses, labeledLossEntry, DRW_BETA, type LabeledLossEntry, type LabeledLossName, type BoundLabeledLoss, type LossBinding } from './labeled-loss-slot.js';
