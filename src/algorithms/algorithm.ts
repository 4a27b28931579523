import type * as tf from '@tensorflow/tfjs-core';
import type { Classifier } from '../models/model.js';

/** One training step's tensors, made once per batch and owned (disposed) by the trainer. */
export interface TrainBatch {
  /** Weakly augmented labeled images [B_l, H, W, C], normalised float32. */
  readonly labeledImages: tf.Tensor4D;
  /** Labels [B_l] int32. */
  readonly labeledLabels: tf.Tensor1D;
  /** Weak views of the unlabeled images [B_u, H, W, C]. */
  readonly weakImages: tf.Tensor4D;
  /** Strong views of the same unlabeled images [B_u, H, W, C]. */
  readonly strongImages: tf.Tensor4D;
}

/** What an algorithm may use besides the batch. */
export interface StepContext {
  /** 0-based iteration. */
  readonly step: number;
  /** The student (trained) model. */
  readonly model: Classifier;
  /** The EMA model (evaluated; DASO also feeds its prototype queues with it). */
  readonly ema: Classifier;
}

/**
 * Pseudo-labels of one step, as class ids per unlabeled sample (−1 where a source is inactive).
 * Read after the step for histograms and the pseudo-label quality report.
 */
export interface StepPseudoLabels {
  readonly final: Int32Array;
  readonly linear: Int32Array;
  /** Semantic pseudo-labels (DASO after warm-up), else undefined. */
  readonly semantic?: Int32Array;
  /** 1 where the final pseudo-label passed the confidence threshold. */
  readonly confident: Uint8Array;
}

/** Output of the loss function, computed inside the gradient tape. */
export interface StepLoss {
  /** Total loss (what the gradient is taken of). */
  readonly total: tf.Scalar;
  /** Named loss terms and rates for logging (`lossLabeled`, `lossUnlabeled`, `lossAlign`, `maskRate`). */
  readonly terms: Readonly<Record<string, tf.Scalar>>;
  /** Pseudo-label tensors [B_u] int32 for final/linear/semantic, and the mask [B_u] float32. */
  readonly pseudoLabels: {
    readonly final: tf.Tensor1D;
    readonly linear: tf.Tensor1D;
    readonly semantic?: tf.Tensor1D;
    readonly mask: tf.Tensor1D;
  };
}

/** Plain, JSON-able state plus float arrays, saved in checkpoints. */
export interface AlgorithmState {
  readonly json: Record<string, unknown>;
  readonly arrays: Record<string, Float32Array | Int32Array>;
}

/**
 * A training algorithm as the trainer drives it:
 * `prepare` (no gradient) -> `loss` (inside the tape) -> optimizer + EMA -> `afterStep`.
 */
export interface Algorithm {
  readonly name: string;
  /** Work outside the gradient tape before the loss, e.g. DASO's queue update from the EMA encoder. */
  prepare(batch: TrainBatch, ctx: StepContext): void;
  /**
   * Forward pass and losses. Runs inside the trainer's gradient tape; returned tensors are kept
   * by the trainer and disposed after `afterStep`.
   */
  loss(batch: TrainBatch, ctx: StepContext): StepLoss;
  /** Bookkeeping after the parameter update, on the pseudo-labels read back from the step. */
  afterStep(pseudoLabels: StepPseudoLabels, step: number): void;
  state(): AlgorithmState;
  restore(state: AlgorithmState): void;
  dispose(): void;
}
