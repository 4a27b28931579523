import * as tf from '@tensorflow/tfjs-core';
import { cosineSimilarity } from '../../ops/cosine-similarity.js';

/**
 * Semantic similarity logits cos(z, c_k) / T_proto between features [B, D] and prototypes [C, D]
 * (DASO eq. for q). Borrows inputs; caller owns the [B, C] result.
 */
export function prototypeLogits(features: tf.Tensor2D, prototypes: tf.Tensor2D, protoTemperature: number): tf.Tensor2D {
  return tf.tidy(() => tf.div(cosineSimilarity(features, prototypes), protoTemperature) as tf.Tensor2D);
}

/**
 * DASO's semantic pseudo-label q = softmax(cos(z_weak, c) / T_proto), from the STUDENT's weak
 * features (ytaek-oh/daso daso_model.py, under torch.no_grad: callers pass detached features).
 * Caller owns the [B, C] result.
 */
export function semanticPseudoLabels(featuresWeak: tf.Tensor2D, prototypes: tf.Tensor2D, protoTemperature: number): tf.Tensor2D {
  return tf.tidy(() => tf.softmax(prototypeLogits(featuresWeak, prototypes, protoTemperature)) as tf.Tensor2D);
}
