import type * as tf from '@tensorflow/tfjs-core';
import { crossEntropy } from './cross-entropy.js';

/** A loss that can fill the labeled-loss slot of any learner. */
export interface LabeledLossEntry {
  readonly name: string;
  readonly summary: string;
  /**
   * Set when the loss adjusts the logits by the class prior (Balanced Softmax, LA loss): an
   * add-on that also adjusts labeled logits is then refused (adjust logits once).
   */
  readonly adjustsLogits: boolean;
  /** Binds the loss to the labeled class counts: `(logits [B, C], labels [B]) => scalar`. */
  readonly bind: (classCounts: readonly number[]) => (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar;
}

/** Losses `--labeled-loss` accepts, in `--help` order. */
export const labeledLosses = [
  {
    name: 'ce',
    summary: 'softmax cross-entropy, mean over the batch',
    adjustsLogits: false,
    bind: (counts) => (logits, labels) => crossEntropy(logits, labels, counts),
  },
] as const satisfies readonly LabeledLossEntry[];

export const LABELED_LOSS_NAMES = labeledLosses.map((l) => l.name) as [(typeof labeledLosses)[number]['name'], ...string[]];
export type LabeledLossName = (typeof labeledLosses)[number]['name'];

/** The entry of a labeled loss by name (names are validated at the config boundary). */
export function labeledLossEntry(name: string): LabeledLossEntry {
  const entry = (labeledLosses as readonly LabeledLossEntry[]).find((l) => l.name === name);
  if (!entry) throw new Error(`labeledLossEntry: unknown loss '${name}' (known: ${LABELED_LOSS_NAMES.join(', ')})`);
  return entry;
}

/** The losses as one namespace: `import { losses } from 'ssl-lt'`. */
export const losses = { crossEntropy } as const;
export { crossEntropy };
