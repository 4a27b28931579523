import * as tf from '@tensorflow/tfjs-core';
import type { AuxHeadSpec, Classifier, ForwardResult, NamedVariable } from './model.js';
import type { Linear } from './layers.js';
import type { LayerBuilder } from './layers.js';
import type { Head } from './heads.js';

/** An auxiliary head as built: its spec and its linear layer. */
export interface AuxHead {
  readonly spec: AuxHeadSpec;
  readonly linear: Linear;
}

/** Auxiliary heads of a model and the one it reports (see `Classifier.reportedHead`). */
export interface AuxHeads {
  readonly heads: readonly AuxHead[];
  readonly reported: string | null;
}

/** Backbone forward: normalised NHWC input [B, H, W, C] -> pooled features [B, featureDim]. */
export type Encoder = (x: tf.Tensor4D, training: boolean) => tf.Tensor2D;

/**
 * A `Classifier` made of an encoder function and a head, owning the variables that the builder
 * recorded while the layers were created.
 */
export class ComposedClassifier implements Classifier {
  readonly params: readonly NamedVariable[];
  readonly buffers: readonly NamedVariable[];
  readonly headVariables: ReadonlySet<string>;
  readonly auxHeads: readonly AuxHeadSpec[];
  readonly reportedHead: string | null;
  private readonly aux: ReadonlyMap<string, Linear>;
  private disposed = false;

  constructor(
    readonly net: string,
    readonly numClasses: number,
    readonly featureDim: number,
    builder: LayerBuilder,
    private readonly encode: Encoder,
    private readonly classifierHead: Head,
    headVariables: Iterable<string>,
    aux: AuxHeads = { heads: [], reported: null },
  ) {
    this.params = [...builder.params];
    this.buffers = [...builder.buffers];
    this.headVariables = new Set(headVariables);
    this.auxHeads = aux.heads.map((h) => h.spec);
    this.aux = new Map(aux.heads.map((h) => [h.spec.name, h.linear]));
    if (aux.reported !== null && !this.aux.has(aux.reported)) throw new Error(`${net}: reported head '${aux.reported}' is not one of the auxiliary heads [${[...this.aux.keys()].join(', ')}]`);
    this.reportedHead = aux.reported;
  }

  auxLogits(name: string, features: tf.Tensor2D): tf.Tensor2D {
    const linear = this.aux.get(name);
    if (!linear) throw new Error(`${this.net}.auxLogits: no auxiliary head '${name}' (have [${[...this.aux.keys()].join(', ')}])`);
    if (features.rank !== 2 || features.shape[1] !== this.featureDim) {
      throw new Error(`${this.net}.auxLogits: features must be [B, ${this.featureDim}], got [${features.shape}]`);
    }
    return linear.apply(features);
  }

  forward(x: tf.Tensor4D, training: boolean): ForwardResult {
    this.assertUsable();
    if (x.rank !== 4) throw new Error(`${this.net}.forward: x must be [B, H, W, C], got shape [${x.shape}]`);
    return tf.tidy(() => {
      const features = this.encode(x, training);
      return { features, logits: this.logitsOf(features, training) };
    });
  }

  head(features: tf.Tensor2D): tf.Tensor2D {
    if (features.rank !== 2 || features.shape[1] !== this.featureDim) {
      throw new Error(`${this.net}.head: features must be [B, ${this.featureDim}], got [${features.shape}]`);
    }
    return this.classifierHead.apply(features);
  }

  /** Logits of features in training form (and the head sees them) or inference form. */
  protected logitsOf(features: tf.Tensor2D, training: boolean): tf.Tensor2D {
    if (!training) return this.classifierHead.infer(features);
    const logits = this.classifierHead.apply(features);
    this.classifierHead.observe?.(features);
    return logits;
  }

  protected assertUsable(): void {
    if (this.disposed) throw new Error(`${this.net}.forward: model was disposed`);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of [...this.params, ...this.buffers]) v.variable.dispose();
  }
}
