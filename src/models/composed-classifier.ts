import * as tf from '@tensorflow/tfjs-core';
import type { Classifier, ForwardResult, NamedVariable } from './model.js';
import type { LayerBuilder, Linear } from './layers.js';

/** Backbone forward: normalised NHWC input [B, H, W, C] -> pooled features [B, featureDim]. */
export type Encoder = (x: tf.Tensor4D, training: boolean) => tf.Tensor2D;

/**
 * A `Classifier` made of an encoder function and a linear head, owning the variables that the
 * builder recorded while the layers were created.
 */
export class ComposedClassifier implements Classifier {
  readonly params: readonly NamedVariable[];
  readonly buffers: readonly NamedVariable[];
  private disposed = false;

  constructor(
    readonly net: string,
    readonly numClasses: number,
    readonly featureDim: number,
    builder: LayerBuilder,
    private readonly encode: Encoder,
    private readonly linear: Linear,
  ) {
    this.params = [...builder.params];
    this.buffers = [...builder.buffers];
  }

  forward(x: tf.Tensor4D, training: boolean): ForwardResult {
    if (this.disposed) throw new Error(`${this.net}.forward: model was disposed`);
    if (x.rank !== 4) throw new Error(`${this.net}.forward: x must be [B, H, W, C], got shape [${x.shape}]`);
    return tf.tidy(() => {
      const features = this.encode(x, training);
      const logits = this.linear.apply(features);
      return { features, logits };
    });
  }

  head(features: tf.Tensor2D): tf.Tensor2D {
    if (features.rank !== 2 || features.shape[1] !== this.featureDim) {
      throw new Error(`${this.net}.head: features must be [B, ${this.featureDim}], got [${features.shape}]`);
    }
    return this.linear.apply(features);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of [...this.params, ...this.buffers]) v.variable.dispose();
  }
}
