import type * as tf from '@tensorflow/tfjs-core';

/** Last block forward: trunk output -> pooled features [B, featureDim]. */
export type LastBlock = (h: tf.Tensor4D, training: boolean) => tf.Tensor2D;

/**
 * A backbone split where BBN splits it: the trunk (every layer but the last block) and a factory
 * of last blocks, so that one trunk can feed two branches. Variables are created in PyTorch's
 * registration order: the trunk's when the parts are defined, a block's when `lastBlock` is called.
 */
export interface NetParts {
  readonly featureDim: number;
  /** Input [B, H, W, C] -> trunk output. */
  readonly trunk: (x: tf.Tensor4D, training: boolean) => tf.Tensor4D;
  /** Creates a last block whose variable names start with `prefix` ('' for the plain net). */
  readonly lastBlock: (prefix: string) => LastBlock;
  /** State-dict prefix of the net's linear head, e.g. `classifier.classifier`. */
  readonly headPrefix: string;
  /** Init of the net's linear head (layers.ts `LayerBuilder.linear`). */
  readonly headInit: 'xavier' | 'kaiming';
}
