import type * as tf from '@tensorflow/tfjs-core';
import type { Classifier } from '../models/model.js';
import type { RunHooks } from './boundary.js';

/** One training step's tensors, made once per batch and owned (disposed) by the trainer. */
export interface TrainBatch {
  /** Weakly augmented labeled images [B_l, H, W, C], normalised float32. */
  readonly labeledImages: tf.Tensor4D;
  /** Labels [B_l] int32. */
  readonly labeledLabels: tf.Tensor1D;
  /** Weak views of the unlabeled images [B_u, H, W, C] (B_u = 0 for a supervised learner). */
  readonly weakImages: tf.Tensor4D;
  /** Strong views of the same unlabeled images [B_u, H, W, C] (B_u = 0 when the learner asks for none). */
  readonly strongImages: tf.Tensor4D;
  /**
   * Weak views 2..K of the same unlabeled images, each [B_u, H, W, C], for a learner whose
   * `unlabeledViews` hook asks for K > 1 weak views (MixMatch); absent or empty otherwise.
   * Drawn independently of `weakImages`, row i is always the same image.
   */
  readonly extraWeakImages?: readonly tf.Tensor4D[];
  /** Strong views 2..K likewise (ReMixMatch's augmentation anchoring); absent or empty otherwise. */
  readonly extraStrongImages?: readonly tf.Tensor4D[];
  /**
   * [B_u] positions of the unlabeled images in the unlabeled split (0..numUnlabeled−1), for
   * per-sample state (FlexMatch, DARP, SAW). Never their labels: those reach reporting only.
   */
  readonly unlabeledPositions: Int32Array;
}

/** All weak views of the unlabeled images, `weakImages` first; borrowed from the batch. */
export function weakViews(batch: TrainBatch): readonly tf.Tensor4D[] {
  return [batch.weakImages, ...(batch.extraWeakImages ?? [])];
}

/** All strong views of the unlabeled images, `strongImages` first (none when it is empty); borrowed. */
export function strongViews(batch: TrainBatch): readonly tf.Tensor4D[] {
  return batch.strongImages.shape[0] === 0 ? [] : [batch.strongImages, ...(batch.extraStrongImages ?? [])];
}

/** The batch's strong views, which must be the `expected` number the learner asked for (its `unlabeledViews`). */
export function expectStrongViews(batch: TrainBatch, learner: string, expected: number): readonly tf.Tensor4D[] {
  const strongs = strongViews(batch);
  if (strongs.length !== expected) throw new Error(`${learner}: the batch has ${strongs.length} strong views, expected ${expected}`);
  return strongs;
}

/** What an algorithm may use besides the batch. */
export interface StepContext {
  /** 0-based iteration. */
  readonly step: number;
  /** Total iterations of the run. */
  readonly iterations: number;
  /** The student (trained) model. */
  readonly model: Classifier;
  /** The EMA model (evaluated; DASO also feeds its prototype queues with it). */
  readonly ema: Classifier;
}

/**
 * Pseudo-labels of one step read back from the device, as class ids per unlabeled sample, keyed
 * by source: `final` (what enters the loss), `linear` (argmax of the classifier) and any source an
 * add-on contributes (DASO: `semantic`). −1 where a source has no label for a sample.
 */
export interface StepPseudoLabels {
  readonly sources: Readonly<Record<string, Int32Array>>;
  /** 1 where the final pseudo-label passed the confidence threshold. */
  readonly confident: Uint8Array;
}

/** The pseudo-label tensors of a step, before read-back; all [B_u]. */
export interface PseudoLabelTensors {
  /** int32 class ids per source; must hold `final` and `linear`. */
  readonly sources: Readonly<Record<string, tf.Tensor1D>>;
  /** float32 in {0, 1}: the final pseudo-label is confident. */
  readonly mask: tf.Tensor1D;
}

/** Output of the loss function, computed inside the gradient tape. */
export interface StepLoss {
  /** Total loss (what the gradient is taken of). */
  readonly total: tf.Scalar;
  /** Named loss terms and rates for logging (`lossLabeled`, `lossUnlabeled`, `lossAlign`, `maskRate`). */
  readonly terms: Readonly<Record<string, tf.Scalar>>;
  /** Absent for learners that make no pseudo-labels (supervised). */
  readonly pseudoLabels?: PseudoLabelTensors;
}

/** Plain, JSON-able state plus typed arrays, saved in checkpoints. */
export interface AlgorithmState {
  readonly json: Record<string, unknown>;
  readonly arrays: Record<string, Float32Array | Int32Array>;
}

/**
 * A training algorithm (a base learner with its add-ons composed in) as the trainer drives it:
 * `prepare` (no gradient) -> `loss` (inside the tape) -> optimizer + EMA -> `afterStep`.
 */
export interface Algorithm {
  /** What the run is called, e.g. `fixmatch+daso`. */
  readonly name: string;
  /** Whether the trainer must feed unlabeled weak/strong views (false: a supervised learner). */
  readonly usesUnlabeled: boolean;
  /**
   * Which parameters the optimiser updates (default all): decoupled training's stage 2 trains the
   * head (cRT) or the head's scales (LWS) and leaves the backbone frozen.
   */
  readonly trains?: (variable: { readonly name: string; readonly inHead: boolean }) => boolean;
  /** Work outside the gradient tape before the loss, e.g. DASO's queue update from the EMA encoder. */
  prepare(batch: TrainBatch, ctx: StepContext): void;
  /**
   * Forward pass and losses. Runs inside the trainer's gradient tape; returned tensors are kept
   * by the trainer and disposed after `afterStep`.
   */
  loss(batch: TrainBatch, ctx: StepContext): StepLoss;
  /** Bookkeeping after the parameter update, on the pseudo-labels read back from the step. */
  afterStep(pseudoLabels: StepPseudoLabels | undefined, ctx: StepContext): void;
  /**
   * Estimates of the unlabeled class distribution [C] the algorithm keeps, by source (an add-on's
   * name, or the learner's); read at each evaluation and logged with their KL to the truth.
   */
  priorEstimates?(): Readonly<Record<string, readonly number[]>>;
  /** Work between steps and generations of re-training, from the add-ons (the registry attaches them). */
  readonly runHooks?: RunHooks;
  state(): AlgorithmState;
  restore(state: AlgorithmState): void;
  dispose(): void;
}
