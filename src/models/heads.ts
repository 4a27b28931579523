import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../util/rng.js';
import type { LayerBuilder, Linear } from './layers.js';

/**
 * Classifier heads: pooled features [B, D] -> logits [B, C]. A head's variables are created
 * through the model's `LayerBuilder`, so they are named, checkpointed and EMA-averaged with the
 * backbone's.
 */
export interface Head {
  /** Training-form logits; no side effects (DASO and the tests call it on its own). */
  apply(features: tf.Tensor2D): tf.Tensor2D;
  /** Inference-form logits (De-confound-TDE removes the confounder here); the others equal `apply`. */
  infer(features: tf.Tensor2D): tf.Tensor2D;
  /** Sees each training batch's features after `apply` (TDE's moving-average feature). */
  observe?(features: tf.Tensor2D): void;
}

/** Heads a run's model can be built with (`--head`); the decoupled heads come from stage 2 only. */
export const HEAD_NAMES = ['linear', 'cosine', 'tde'] as const;
export type HeadName = (typeof HEAD_NAMES)[number];

/** What to build: a stage-1 head, or one of decoupled training's stage-2 heads. */
export type HeadSpec =
  | { readonly kind: 'linear'; readonly biasInit?: number }
  | { readonly kind: 'cosine' }
  | { readonly kind: 'tde'; readonly alpha: number }
  | { readonly kind: 'lws' }
  | { readonly kind: 'ncm'; readonly centred: boolean };

/** De-confound-TDE's constants (KaihuaTang `CausalNormClassifier.py`, the CIFAR configs). */
export const TDE = { heads: 2, tau: 16, gamma: 1 / 32, momentum: 0.9 } as const;

/** Builds the head named by `spec` over `featureDim` features; `init` is the net's linear-head init. */
export function createHead(b: LayerBuilder, prefix: string, featureDim: number, numClasses: number, spec: HeadSpec, init: 'xavier' | 'kaiming'): Head {
  const rng = b.rng;
  const linear = (biasInit?: number): Linear => b.linear(prefix, featureDim, numClasses, init, biasInit);
  switch (spec.kind) {
    case 'linear': {
      const { weight, bias } = linear(spec.biasInit);
      return plainHead((f) => tf.add(tf.matMul(f, weight), bias) as tf.Tensor2D);
    }
    case 'lws': {
      const { weight, bias } = linear();
      const scales = b.param(`${prefix}.scales`, tf.ones([numClasses]) as tf.Tensor1D);
      return plainHead((f) => tf.mul(tf.add(tf.matMul(f, weight), bias), scales) as tf.Tensor2D);
    }
    case 'cosine': {
      const weight = b.param(`${prefix}.weight`, normedLinearInit(rng, featureDim, numClasses));
      return plainHead((f) => tf.matMul(l2Rows(f), l2Columns(weight)));
    }
    case 'tde':
      return tdeHead(b, rng, prefix, featureDim, numClasses, spec.alpha);
    case 'ncm': {
      // Not trained: the class means are computed once from stage-1 features (decoupled/ncm.ts).
      const mean = b.buffer(`${prefix}.feature_mean`, tf.zeros([featureDim]) as tf.Tensor1D);
      const weight = b.buffer(`${prefix}.weight`, tf.zeros([featureDim, numClasses]) as tf.Tensor2D);
      const bias = b.buffer(`${prefix}.bias`, tf.zeros([numClasses]) as tf.Tensor1D);
      const centred = spec.centred;
      return plainHead((f) => tf.add(tf.matMul(l2Rows(centred ? tf.sub(f, mean) : f), weight), bias) as tf.Tensor2D);
    }
  }
}

function plainHead(fn: (features: tf.Tensor2D) => tf.Tensor2D): Head {
  const apply = (f: tf.Tensor2D): tf.Tensor2D => tf.tidy(() => fn(f));
  return { apply, infer: apply };
}

/** Rows scaled to unit L2 norm (PyTorch `F.normalize`, eps 1e-12). */
export function l2Rows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 2, 1, true), 1e-12)) as tf.Tensor2D);
}

function l2Columns(w: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(w, tf.maximum(tf.norm(w, 2, 0, true), 1e-12)) as tf.Tensor2D);
}

/**
 * LDAM's `NormedLinear` init: U(−1, 1), then each output column renormed to norm ≤ 1e-5 and
 * scaled by 1e5 (`renorm_(2, 1, 1e-5).mul_(1e5)`), i.e. unit columns. [in, out].
 */
function normedLinearInit(rng: Rng, inF: number, outF: number): tf.Tensor2D {
  const w = new Float32Array(inF * outF);
  for (let i = 0; i < w.length; i++) w[i] = 2 * rng.float() - 1;
  return tf.tidy(() => l2Columns(tf.tensor2d(w, [inF, outF])));
}

/**
 * De-confound-TDE's causal-norm classifier (KaihuaTang `CausalNormClassifier.py`): the feature and
 * the weight split into K groups; y = (τ/K) Σ_k x̂_k · w_k/(‖w_k‖ + γ) with x̂_k the unit-norm
 * group. Training keeps d̄ ← μ·d̄ + mean_batch(x) (the official running sum, not an average: only
 * its direction is used). Inference removes the confounder per group:
 * x̂_k − α·cos(x̂_k, d̂_k)·d̂_k. Weight init U(−1/√D, 1/√D) as the official `reset_parameters`.
 */
function tdeHead(b: LayerBuilder, rng: Rng, prefix: string, featureDim: number, numClasses: number, alpha: number): Head {
  const k = TDE.heads;
  if (featureDim % k !== 0) throw new Error(`tde head: feature width ${featureDim} is not divisible by ${k} heads`);
  const bound = 1 / Math.sqrt(featureDim);
  const init = new Float32Array(featureDim * numClasses);
  for (let i = 0; i < init.length; i++) init[i] = (2 * rng.float() - 1) * bound;
  const weight = b.param(`${prefix}.weight`, tf.tensor2d(init, [featureDim, numClasses]));
  const embed = b.buffer(`${prefix}.embed_mean`, tf.zeros([featureDim]) as tf.Tensor1D);
  const groupDim = featureDim / k;
  const groups = (x: tf.Tensor2D): tf.Tensor2D[] => tf.split(x, k, 1);
  const normedWeights = (): tf.Tensor2D[] =>
    tf.split(weight, k, 0).map((w) => tf.div(w, tf.add(tf.norm(w, 2, 0, true), TDE.gamma)) as tf.Tensor2D);
  const scale = TDE.tau / k;
  return {
    apply: (f) =>
      tf.tidy(() => {
        const ws = normedWeights();
        return tf.addN(groups(f).map((x, i) => tf.matMul(tf.mul(l2Rows(x), scale), ws[i]))) as tf.Tensor2D;
      }),
    infer: (f) =>
      tf.tidy(() => {
        const ws = normedWeights();
        const cs = groups(tf.reshape(embed, [1, featureDim]) as tf.Tensor2D).map(l2Rows);
        return tf.addN(
          groups(f).map((x, i) => {
            const nx = l2Rows(x);
            const cos = tf.sum(tf.mul(nx, cs[i]), 1, true);
            return tf.matMul(tf.mul(tf.sub(nx, tf.mul(tf.mul(cos, alpha), cs[i])), scale), ws[i]);
          }),
        ) as tf.Tensor2D;
      }),
    observe: (f) => {
      tf.tidy(() => {
        if (f.shape[1] !== groupDim * k) throw new Error(`tde head: features must be [B, ${featureDim}]`);
        embed.assign(tf.add(tf.mul(embed, TDE.momentum), tf.mean(f, 0)) as tf.Tensor1D);
      });
    },
  };
}
