import * as tf from '@tensorflow/tfjs-core';
import { batchNormInference, batchNormTrain } from '../ops/batch-norm.js';
import { leakyRelu } from '../ops/activations.js';
import { conv2d } from '../ops/conv.js';
import { convBatchNormInference } from '../ops/fold-batch-norm.js';
import type { Rng } from '../util/rng.js';
import type { NamedVariable } from './model.js';
import { kaimingLinear, kaimingNormalConv, xavierNormalLinear } from './init.js';

/**
 * Building blocks of our networks: conv, BatchNorm and linear layers holding their variables.
 * Layers are created through a `LayerBuilder`, which names every variable (PyTorch state_dict
 * keys, so weights map one-to-one onto the official models) and records them in creation order.
 */

/** PyTorch BatchNorm2d defaults, used by the official WRN: eps 1e-5, momentum 0.1. */
export const BN_EPS = 1e-5;
/** Weight of the batch statistic in the running average (PyTorch convention; tfjs calls 0.9 "momentum"). */
export const BN_MOMENTUM = 0.1;
/** LeakyReLU slope of the official WRN (and cnn-small). */
export const LEAKY_SLOPE = 0.1;

/**
 * 2-D convolution with symmetric zero padding `pad` on each spatial side, as PyTorch's Conv2d
 * `padding=pad` (TF 'same' pads asymmetrically at stride 2, which would be a different net).
 * Runs `src/ops/conv.ts` (one fused ATen convolution on the torch backend).
 *
 * @param x [B, H, W, Cin] (borrowed). @param filter [kh, kw, Cin, Cout] (borrowed).
 * @returns [B, H', W', Cout], owned by the caller.
 */
export function conv2dSymmetric(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D {
  return conv2d(x, filter, stride, [pad, pad, pad, pad]);
}

/** A bias-free conv layer (every conv of WRN and cnn-small is followed by BatchNorm or a sum). */
export class Conv2d {
  constructor(
    readonly weight: tf.Variable<tf.Rank.R4>,
    readonly stride: number,
    readonly pad: number,
  ) {}

  /** [B, H, W, Cin] -> [B, H', W', Cout]; caller owns the result. */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return conv2dSymmetric(x, this.weight, this.stride, this.pad);
  }
}

/**
 * BatchNorm over the channel axis (last) of NHWC or NC input, with PyTorch semantics:
 * training uses the batch statistics and updates the running ones in place,
 * running = (1 − 0.1)·running + 0.1·batch, where the running variance takes the UNBIASED batch
 * variance (× n/(n−1), n = B·H·W) while the normalisation uses the biased one.
 */
export class BatchNorm {
  constructor(
    readonly gamma: tf.Variable<tf.Rank.R1>,
    readonly beta: tf.Variable<tf.Rank.R1>,
    readonly runningMean: tf.Variable<tf.Rank.R1>,
    readonly runningVar: tf.Variable<tf.Rank.R1>,
  ) {}

  /**
   * @param x [B, H, W, C] or [B, C] (borrowed).
   * @param training batch statistics + running-stat update (true) or running statistics (false).
   * @param activation applied to the output: in training fused into the batch norm's own call
   *   (src/ops/batch-norm.ts), in evaluation after it.
   * @returns same shape as x, owned by the caller. Works inside tf.grads / variableGrads: the
   *   running-stat assignment is off the path to the loss, so it adds no gradient.
   */
  apply<T extends tf.Tensor4D | tf.Tensor2D>(x: T, training: boolean, activation: BlockActivation = 'none'): T {
    if (!training) {
      if (activation === 'none') return batchNormInference(x, this.runningMean, this.runningVar, this.gamma, this.beta, BN_EPS);
      return tf.tidy(() => {
        const y = batchNormInference(x, this.runningMean, this.runningVar, this.gamma, this.beta, BN_EPS);
        return activation === 'leaky' ? leakyRelu(y, LEAKY_SLOPE) : tf.relu(y);
      });
    }
    const fused = activation === 'none' ? null : activation === 'leaky' ? ({ kind: 'leakyrelu', alpha: LEAKY_SLOPE } as const) : ({ kind: 'relu' } as const);
    const { y, mean, variance } = batchNormTrain(x, this.gamma, this.beta, BN_EPS, fused);
    const n = x.size / x.shape[x.rank - 1];
    // PyTorch divides by n − 1 for the running variance; with n = 1 it would be inf, so keep biased there.
    const unbias = n > 1 ? n / (n - 1) : 1;
    tf.tidy(() => {
      const keep = 1 - BN_MOMENTUM;
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, keep), tf.mul(mean, BN_MOMENTUM)));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, keep), tf.mul(variance, BN_MOMENTUM * unbias)));
    });
    mean.dispose();
    variance.dispose();
    return y as T;
  }
}

/** Fully connected layer: y = x·W + b with W [in, out]. */
export class Linear {
  constructor(
    readonly weight: tf.Variable<tf.Rank.R2>,
    readonly bias: tf.Variable<tf.Rank.R1>,
  ) {}

  /** [B, in] -> [B, out]; caller owns the result. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.add(tf.matMul(x, this.weight), this.bias));
  }
}

/** LeakyReLU(0.1) after BatchNorm in training or evaluation mode; caller owns the result. */
export function bnAct(bn: BatchNorm, x: tf.Tensor4D, training: boolean): tf.Tensor4D {
  return bn.apply(x, training, 'leaky');
}

let foldInEvaluation = true;

/**
 * Runs `work` with BatchNorm folding of evaluation passes on or off (on by default), then
 * restores the previous setting: the unfolded pass is the reference the folded one is checked
 * against.
 */
export function withBatchNormFolding<T>(enabled: boolean, work: () => T): T {
  const before = foldInEvaluation;
  foldInEvaluation = enabled;
  try {
    return work();
  } finally {
    foldInEvaluation = before;
  }
}

/** The activation of a conv block: LeakyReLU(0.1) (WRN, cnn-small), ReLU (ResNet-32) or none. */
export type BlockActivation = 'leaky' | 'relu' | 'none';

/**
 * conv → BatchNorm → activation. Training: the conv, batch-statistics BatchNorm (running
 * statistics updated) and the activation. Evaluation outside a gradient tape: the BatchNorm
 * folded into the conv's filter and bias and one fused conv (src/ops/fold-batch-norm.ts). Caller
 * owns the result.
 */
export function convBnAct(conv: Conv2d, bn: BatchNorm, x: tf.Tensor4D, training: boolean, activation: BlockActivation = 'leaky'): tf.Tensor4D {
  // Under a gradient tape (an eval-mode forward inside a training step) the pass stays unfolded:
  // tfjs has no gradient for a fused conv's LeakyReLU, and training-time numbers stay as they were.
  if (training || !foldInEvaluation || tf.engine().state.activeTape != null) return tf.tidy(() => bn.apply(conv.apply(x), training, activation));
  const p = conv.pad;
  const params = { gamma: bn.gamma, beta: bn.beta, runningMean: bn.runningMean, runningVar: bn.runningVar, eps: BN_EPS };
  return convBatchNormInference(x, conv.weight, conv.stride, [p, p, p, p], params, activation === 'leaky' ? 'leakyrelu' : activation === 'relu' ? 'relu' : 'linear', LEAKY_SLOPE);
}

/** Global average pool over H and W: [B, H, W, C] -> [B, C]; caller owns the result. */
export function globalAvgPool(x: tf.Tensor4D): tf.Tensor2D {
  return tf.mean(x, [1, 2]) as tf.Tensor2D;
}

/**
 * Creates layers with initialised variables and records them, named and in creation order
 * (creation order = PyTorch `parameters()` / `buffers()` order when callers follow the module
 * registration order of the PyTorch definition).
 */
export class LayerBuilder {
  readonly params: NamedVariable[] = [];
  readonly buffers: NamedVariable[] = [];

  constructor(readonly rng: Rng) {}

  /** Conv with Kaiming-normal (relu gain, `mode` fan_out by default) init; weight `${name}.weight`. */
  conv(name: string, k: number, inC: number, outC: number, stride: number, pad: number, mode: 'fan_out' | 'fan_in' = 'fan_out'): Conv2d {
    const w = this.param(`${name}.weight`, kaimingNormalConv(this.rng, k, k, inC, outC, mode));
    return new Conv2d(w, stride, pad);
  }

  /** BatchNorm with gamma 1, beta 0, running mean 0, running var 1 (PyTorch names weight/bias). */
  batchNorm(name: string, channels: number): BatchNorm {
    const gamma = this.param(`${name}.weight`, tf.ones([channels]) as tf.Tensor1D);
    const beta = this.param(`${name}.bias`, tf.zeros([channels]) as tf.Tensor1D);
    const mean = this.buffer(`${name}.running_mean`, tf.zeros([channels]) as tf.Tensor1D);
    const variance = this.buffer(`${name}.running_var`, tf.ones([channels]) as tf.Tensor1D);
    return new BatchNorm(gamma, beta, mean, variance);
  }

  /**
   * Linear layer; `init` 'xavier' = Xavier-normal weight, zero bias (DASO); 'kaiming' = LDAM-DRW's
   * ResNet-32 head (Kaiming-normal fan_in weight, PyTorch default uniform bias). `biasInit` sets
   * every bias to one value (the class-balanced sigmoid losses start from −log(C − 1)).
   */
  linear(name: string, inF: number, outF: number, init: 'xavier' | 'kaiming' = 'xavier', biasInit?: number): Linear {
    const values =
      init === 'xavier'
        ? { weight: xavierNormalLinear(this.rng, inF, outF), bias: tf.zeros([outF]) as tf.Tensor1D }
        : kaimingLinear(this.rng, inF, outF);
    let bias = values.bias;
    if (biasInit !== undefined) {
      bias.dispose();
      bias = tf.fill([outF], biasInit) as tf.Tensor1D;
    }
    const w = this.param(`${name}.weight`, values.weight);
    const b = this.param(`${name}.bias`, bias);
    return new Linear(w, b);
  }

  /** A trainable variable named `name`, taking ownership of `init`. */
  param<R extends tf.Rank>(name: string, init: tf.Tensor<R>): tf.Variable<R> {
    return this.record(this.params, name, init, true);
  }

  /** A non-trainable variable (running statistic) named `name`, taking ownership of `init`. */
  buffer<R extends tf.Rank>(name: string, init: tf.Tensor<R>): tf.Variable<R> {
    return this.record(this.buffers, name, init, false);
  }

  private record<R extends tf.Rank>(list: NamedVariable[], name: string, init: tf.Tensor<R>, trainable: boolean): tf.Variable<R> {
    if (this.params.some((p) => p.name === name) || this.buffers.some((b) => b.name === name)) {
      throw new Error(`LayerBuilder: duplicate variable name '${name}'`);
    }
    // No tfjs name: tfjs names are global and would clash between a model and its EMA copy.
    const variable = tf.variable(init, trainable);
    init.dispose();
    list.push({ name, variable });
    return variable;
  }
}
