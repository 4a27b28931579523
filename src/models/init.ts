import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../util/rng.js';

/**
 * Weight initialisers of ytaek-oh/daso `lib/models/wrn.py` and `classifier.py`, drawn from our
 * seeded `Rng` so that the same seed gives the same weights on every backend.
 * Values are drawn in PyTorch's element order ([out, in, kh, kw] for convs, [out, in] for linear)
 * and then laid out for tfjs; the distribution is what matters, but a fixed order keeps the stream
 * independent of the tensor layout.
 */

/** n samples of N(0, std²). */
function normals(rng: Rng, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * std;
  return out;
}

/**
 * Kaiming-normal conv filter with ReLU gain √2: std = sqrt(2 / fan), fan = out·kh·kw for
 * `mode='fan_out'` (official WRN: `nonlinearity='relu'` even though the net uses LeakyReLU(0.1);
 * we follow the code, not the activation), or in·kh·kw for `'fan_in'` (PyTorch's default
 * `kaiming_normal_`, used by LDAM-DRW's ResNet-32).
 *
 * @returns [kh, kw, in, out] (tfjs layout), owned by the caller.
 */
export function kaimingNormalConv(
  rng: Rng,
  kh: number,
  kw: number,
  inC: number,
  outC: number,
  mode: 'fan_out' | 'fan_in' = 'fan_out',
): tf.Tensor4D {
  const fan = (mode === 'fan_out' ? outC : inC) * kh * kw;
  const torchOrder = normals(rng, outC * inC * kh * kw, Math.sqrt(2 / fan));
  return tf.tidy(() => tf.transpose(tf.tensor4d(torchOrder, [outC, inC, kh, kw]), [2, 3, 1, 0]));
}

/**
 * Xavier-normal linear weight (gain 1): std = sqrt(2 / (in + out)).
 *
 * @returns [in, out] (tfjs layout: logits = x·W + b), owned by the caller.
 */
export function xavierNormalLinear(rng: Rng, inF: number, outF: number): tf.Tensor2D {
  const std = Math.sqrt(2 / (inF + outF));
  const torchOrder = normals(rng, outF * inF, std);
  return tf.tidy(() => tf.transpose(tf.tensor2d(torchOrder, [outF, inF])));
}

/**
 * LDAM-DRW ResNet-32 head init: weight Kaiming-normal fan_in (std sqrt(2 / in)); the bias keeps
 * PyTorch's nn.Linear default U(−1/√in, 1/√in), which `_weights_init` does not overwrite.
 *
 * @returns weight [in, out] and bias [out], owned by the caller.
 */
export function kaimingLinear(rng: Rng, inF: number, outF: number): { weight: tf.Tensor2D; bias: tf.Tensor1D } {
  const torchOrder = normals(rng, outF * inF, Math.sqrt(2 / inF));
  const bound = 1 / Math.sqrt(inF);
  const bias = new Float32Array(outF);
  for (let i = 0; i < outF; i++) bias[i] = (2 * rng.float() - 1) * bound;
  return {
    weight: tf.tidy(() => tf.transpose(tf.tensor2d(torchOrder, [outF, inF]))),
    bias: tf.tensor1d(bias),
  };
}
