import type * as tf from '@tensorflow/tfjs-core';

/** What a forward pass returns; the caller owns both tensors. */
export interface ForwardResult {
  /** Pooled backbone features [B, featureDim] (128 for wrn-28-2 and cnn-small), before the head. */
  readonly features: tf.Tensor2D;
  /** Classifier logits [B, numClasses]. */
  readonly logits: tf.Tensor2D;
}

/**
 * An auxiliary linear head on the pooled features, beside the classifier head: ABC's balanced head
 * (C outputs, the one that is reported), ReMixMatch's rotation head (4 outputs). Its variables are
 * `aux.<name>.weight|bias`: checkpointed, EMA-averaged and trained with the rest.
 */
export interface AuxHeadSpec {
  /** kebab-case name, unique in the model. */
  readonly name: string;
  /** Output width. */
  readonly outputs: number;
  /**
   * It predicts the run's classes (ABC's balanced head, an expert), so evaluation scores it; a
   * head of another task (ReMixMatch's 4-way rotation, a projection) is not, whatever its width.
   */
  readonly predictsClasses?: boolean;
}

/** A named long-lived tensor: trainable parameter or BatchNorm running statistic. */
export interface NamedVariable {
  /** Stable, unique, path-like name, e.g. `block1.0.bn1.gamma`; used in checkpoints. */
  readonly name: string;
  readonly variable: tf.Variable;
}

/**
 * An image classifier: backbone -> pooled features -> linear head.
 * The model owns its variables; `dispose()` frees them.
 */
export interface Classifier {
  /** Architecture name as in `--net`. */
  readonly net: string;
  readonly numClasses: number;
  readonly featureDim: number;
  /** Trainable parameters, in a stable order (the optimizer and EMA pair lists by index). */
  readonly params: readonly NamedVariable[];
  /** BatchNorm running means/variances, in a stable order; not trainable. */
  readonly buffers: readonly NamedVariable[];
  /** Names of the head's variables (decoupled training re-creates or trains only these). */
  readonly headVariables: ReadonlySet<string>;
  /**
   * Runs the network on normalised NHWC float32 input [B, H, W, C].
   * `training: true` uses batch statistics for BatchNorm and updates the running statistics in
   * place (PyTorch momentum 0.1, unbiased variance); `false` uses the running statistics.
   */
  forward(x: tf.Tensor4D, training: boolean): ForwardResult;
  /** Runs only the head on features [B, featureDim] -> logits [B, numClasses]. */
  head(features: tf.Tensor2D): tf.Tensor2D;
  /** The auxiliary heads, in creation order (none for a plain model). */
  readonly auxHeads: readonly AuxHeadSpec[];
  /** Logits [B, outputs] of the auxiliary head `name` on features [B, featureDim]; the caller owns them. */
  auxLogits(name: string, features: tf.Tensor2D): tf.Tensor2D;
  /**
   * The auxiliary head whose predictions are the model's (ABC evaluates its balanced head), or
   * null for the classifier head. Evaluation, export and predict read it; training never does.
   */
  readonly reportedHead: string | null;
  dispose(): void;
}
