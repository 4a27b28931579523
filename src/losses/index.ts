import type * as tf from '@tensorflow/tfjs-core';
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

/** A loss that can fill the labeled-loss slot of any learner. */
export interface LabeledLossEntry {
  readonly name: string;
  readonly summary: string;
  /**
   * Set when the loss adjusts the logits by the class prior (Balanced Softmax, LA loss, LADE): an
   * add-on that also adjusts labeled logits is then refused (adjust logits once).
   */
  readonly adjustsLogits: boolean;
  /** Binds the loss to the labeled class counts: `(logits [B, C], labels [B]) => scalar`. */
  readonly bind: (classCounts: readonly number[]) => (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar;
}

/**
 * Losses `--labeled-loss` accepts, with their papers' defaults, in `--help` order. LDAM (needs a
 * normed classifier), equalization (a seed per step) and seesaw (running counts to checkpoint)
 * are library functions until the slot carries that state.
 */
export const labeledLosses = [
  { name: 'ce', summary: 'softmax cross-entropy', adjustsLogits: false, bind: (c) => (z, y) => crossEntropy(z, y, c) },
  { name: 'weighted-ce', summary: 'inverse-frequency weighted CE', adjustsLogits: false, bind: (c) => (z, y) => weightedCrossEntropy(z, y, c) },
  { name: 'focal', summary: 'focal loss, γ = 1', adjustsLogits: false, bind: (c) => (z, y) => focal(z, y, c) },
  { name: 'cb-softmax', summary: 'class-balanced softmax CE, β = 0.9999', adjustsLogits: false, bind: (c) => (z, y) => classBalanced(z, y, c, { variant: 'softmax' }) },
  { name: 'cb-focal', summary: 'class-balanced sigmoid focal, β = 0.9999, γ = 1', adjustsLogits: false, bind: (c) => (z, y) => classBalanced(z, y, c, { variant: 'focal' }) },
  { name: 'balanced-softmax', summary: 'CE(z + log n)', adjustsLogits: true, bind: (c) => (z, y) => balancedSoftmax(z, y, c) },
  { name: 'la-loss', summary: 'logit-adjusted CE(z + τ log π), τ = 1', adjustsLogits: true, bind: (c) => (z, y) => logitAdjusted(z, y, c) },
  { name: 'lade', summary: 'CE(z + log π) + 0.1 · LADE regulariser, λ = 0.01', adjustsLogits: true, bind: (c) => (z, y) => lade(z, y, c) },
  { name: 'label-aware-smoothing', summary: 'MiSLAS label-aware smoothing, ε 0.4 head / 0.1 tail, concave', adjustsLogits: false, bind: (c) => (z, y) => labelAwareSmoothing(z, y, c) },
] as const satisfies readonly LabeledLossEntry[];

export type LabeledLossName = (typeof labeledLosses)[number]['name'];

/** The entry of a labeled loss by name (names are validated at the config boundary). */
export function labeledLossEntry(name: string): LabeledLossEntry {
  const entry = (labeledLosses as readonly LabeledLossEntry[]).find((l) => l.name === name);
  if (!entry) throw new Error(`labeledLossEntry: unknown loss '${name}' (known: ${labeledLosses.map((l) => l.name).join(', ')})`);
  return entry;
}

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
