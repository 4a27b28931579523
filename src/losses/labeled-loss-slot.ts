import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../ops/cross-entropy.js';
import { deriveSeed } from '../util/rng.js';
import { crossEntropy, weightedCrossEntropy, weightedMean } from './cross-entropy.js';
import { balancedSoftmax, logitAdjusted } from './logit-adjusted.js';
import { focal } from './focal.js';
import { classBalanced, classBalancedBiasInit } from './class-balanced.js';
import { ldam } from './ldam.js';
import { lade } from './lade.js';
import { equalization } from './equalization.js';
import { seesaw, updateSeesawCounts } from './seesaw.js';
import { labelAwareSmoothing } from './label-aware-smoothing.js';
import { effectiveNumberWeights } from './class-weights.js';

/** What a labeled loss is bound to for one run. */
export interface LossBinding {
  /** Labeled n_c, [C]. */
  readonly classCounts: readonly number[];
  /** First step of DRW's class-balanced weights (`--drw`), or null when DRW is off. */
  readonly drwFrom: number | null;
  /** Run seed: equalization's Bernoulli draws are a function of it and the step. */
  readonly seed: number;
}

/** A labeled loss bound to a run: a step-aware function plus the state a checkpoint must keep. */
export interface BoundLabeledLoss {
  /** `(logits [B, C], labels [B], step) => scalar`, the caller owns the result. */
  readonly loss: (logits: tf.Tensor2D, labels: tf.Tensor1D, step: number) => tf.Scalar;
  /** Arrays to checkpoint (seesaw's running class counts); empty for stateless losses. */
  state(): Record<string, Float32Array>;
  restore(arrays: Readonly<Record<string, Float32Array | Int32Array>>): void;
}

/** A loss that can fill the labeled-loss slot of any learner. */
export interface LabeledLossEntry {
  readonly name: string;
  readonly summary: string;
  /**
   * Set when the loss adjusts the logits by the class prior (Balanced Softmax, LA loss, LADE): an
   * add-on that also adjusts labeled logits is then refused (adjust logits once).
   */
  readonly adjustsLogits: boolean;
  /** The head the loss is defined on: LDAM's margins assume cosine logits (its `NormedLinear`). */
  readonly head: 'any' | 'cosine';
  /** Whether `--drw` can re-weight it (LDAM-DRW re-weights CE and LDAM). */
  readonly drw: boolean;
  /** Initial value of every final-layer bias, when the loss prescribes one. */
  readonly biasInit?: (numClasses: number) => number;
  readonly bind: (b: LossBinding) => BoundLabeledLoss;
}

/** DRW's class weights: class-balanced with β = 0.9999, Σ w = C (kaidic/LDAM-DRW `cifar_train.py`). */
export const DRW_BETA = 0.9999;

/** `deriveSeed` stream of equalization's draws (samplers use 1 and 2, augmentation 3). */
const EQUALIZATION_STREAM = 7;

const stateless = (loss: BoundLabeledLoss['loss']): BoundLabeledLoss => ({ loss, state: () => ({}), restore() {} });

/** The DRW weights at `step`, or undefined before the switch. */
function drwWeights(b: LossBinding, step: number): readonly number[] | undefined {
  return b.drwFrom !== null && step >= b.drwFrom ? effectiveNumberWeights(b.classCounts, DRW_BETA) : undefined;
}

/**
 * Seesaw with its running counts N_c as checkpointed state. mmdetection adds each batch's labels at
 * the start of the forward; a learner that calls the loss twice in one step must not count twice,
 * so counts advance once per step.
 */
function boundSeesaw(numClasses: number): BoundLabeledLoss {
  let counts = new Float64Array(numClasses);
  let countedStep = -1;
  return {
    loss: (z, y, step) => {
      if (step !== countedStep) {
        counts = Float64Array.from(updateSeesawCounts(counts, y.dataSync()));
        countedStep = step;
      }
      return seesaw(z, y, counts);
    },
    state: () => ({ runningCounts: Float32Array.from(counts) }),
    restore: (arrays) => {
      const saved = arrays.runningCounts;
      if (!saved || saved.length !== numClasses) throw new Error(`seesaw: checkpoint has no running counts for ${numClasses} classes`);
      counts = Float64Array.from(saved);
      countedStep = -1;
    },
  };
}

/**
 * Losses `--labeled-loss` (`--loss`) accepts, with their papers' defaults, in `--help` order.
 */
export const labeledLosses = [
  {
    name: 'ce',
    summary: 'softmax cross-entropy',
    adjustsLogits: false,
    head: 'any',
    drw: true,
    bind: (b) =>
      stateless((z, y, step) => {
        const w = drwWeights(b, step);
        return w ? tf.tidy(() => weightedMean(softmaxCrossEntropy(z, y), y, w)) : crossEntropy(z, y);
      }),
  },
  { name: 'weighted-ce', summary: 'inverse-frequency weighted CE', adjustsLogits: false, head: 'any', drw: false, bind: (b) => stateless((z, y) => weightedCrossEntropy(z, y, b.classCounts)) },
  { name: 'focal', summary: 'focal loss, γ = 1', adjustsLogits: false, head: 'any', drw: false, bind: (b) => stateless((z, y) => focal(z, y, b.classCounts)) },
  { name: 'cb-softmax', summary: 'class-balanced softmax CE, β = 0.9999', adjustsLogits: false, head: 'any', drw: false, bind: (b) => stateless((z, y) => classBalanced(z, y, b.classCounts, { variant: 'softmax' })) },
  {
    name: 'cb-sigmoid',
    summary: 'class-balanced sigmoid CE, β = 0.9999, bias init −log(C−1)',
    adjustsLogits: false,
    head: 'any',
    drw: false,
    biasInit: classBalancedBiasInit,
    bind: (b) => stateless((z, y) => classBalanced(z, y, b.classCounts, { variant: 'sigmoid' })),
  },
  {
    name: 'cb-focal',
    summary: 'class-balanced sigmoid focal, β = 0.9999, γ = 1, bias init −log(C−1)',
    adjustsLogits: false,
    head: 'any',
    drw: false,
    biasInit: classBalancedBiasInit,
    bind: (b) => stateless((z, y) => classBalanced(z, y, b.classCounts, { variant: 'focal' })),
  },
  {
    name: 'ldam',
    summary: 'LDAM, max margin 0.5, scale 30, on the cosine head',
    adjustsLogits: false,
    head: 'cosine',
    drw: true,
    bind: (b) => stateless((z, y, step) => ldam(z, y, b.classCounts, { weights: drwWeights(b, step) })),
  },
  { name: 'balanced-softmax', summary: 'CE(z + log n)', adjustsLogits: true, head: 'any', drw: false, bind: (b) => stateless((z, y) => balancedSoftmax(z, y, b.classCounts)) },
  { name: 'la-loss', summary: 'logit-adjusted CE(z + τ log π), τ = 1', adjustsLogits: true, head: 'any', drw: false, bind: (b) => stateless((z, y) => logitAdjusted(z, y, b.classCounts)) },
  { name: 'lade', summary: 'CE(z + log π) + 0.1 · LADE regulariser, λ = 0.01', adjustsLogits: true, head: 'any', drw: false, bind: (b) => stateless((z, y) => lade(z, y, b.classCounts)) },
  {
    name: 'equalization',
    summary: 'softmax equalization loss, γ = 0.9, λ = 0.005',
    adjustsLogits: false,
    head: 'any',
    drw: false,
    // A fresh Bernoulli draw per step, the same on resume: the seed is a function of (run seed, step).
    bind: (b) => stateless((z, y, step) => equalization(z, y, b.classCounts, { seed: deriveSeed(b.seed, EQUALIZATION_STREAM, step) })),
  },
  { name: 'seesaw', summary: 'seesaw, p = 0.8, q = 2, running class counts', adjustsLogits: false, head: 'any', drw: false, bind: (b) => boundSeesaw(b.classCounts.length) },
  {
    name: 'label-aware-smoothing',
    summary: 'MiSLAS label-aware smoothing, ε 0.4 head / 0.1 tail, concave',
    adjustsLogits: false,
    head: 'any',
    drw: false,
    bind: (b) => stateless((z, y) => labelAwareSmoothing(z, y, b.classCounts)),
  },
] as const satisfies readonly LabeledLossEntry[];

export type LabeledLossName = (typeof labeledLosses)[number]['name'];

/** The entry of a labeled loss by name (names are validated at the config boundary). */
export function labeledLossEntry(name: string): LabeledLossEntry {
  const entry = (labeledLosses as readonly LabeledLossEntry[]).find((l) => l.name === name);
  if (!entry) throw new Error(`labeledLossEntry: unknown loss '${name}' (known: ${labeledLosses.map((l) => l.name).join(', ')})`);
  return entry;
}
