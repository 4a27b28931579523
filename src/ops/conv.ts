import * as tf from '@tensorflow/tfjs-core';
import { FAST_KERNELS, hasFastKernel } from './fast-kernels.js';

/** Zero padding of the two spatial axes: [top, bottom, left, right]. */
export type SpatialPadding = readonly [number, number, number, number];

/**
 * 2-D convolution (no bias) with explicit zero padding, PyTorch's Conv2d(padding=p) being
 * `[p, p, p, p]`. TF's 'same' pads asymmetrically at stride 2 (one more row at the bottom), which
 * is a different network from the official PyTorch WRN; explicit padding avoids that.
 *
 * On the torch backend this is one ATen convolution forward and one convolution_backward for both
 * gradients; elsewhere it is tf.pad + tf.conv2d 'valid' (same values).
 *
 * @param x [B, H, W, Cin] (borrowed). @param filter [kh, kw, Cin, Cout] (borrowed).
 * @param stride one number for both axes or [sh, sw].
 * @returns [B, H', W', Cout] with H' = floor((H + top + bottom − kh) / sh) + 1, owned by the caller.
 */
export function conv2d(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  stride: number | readonly [number, number],
  pad: SpatialPadding,
): tf.Tensor4D {
  const strides: [number, number] = typeof stride === 'number' ? [stride, stride] : [stride[0], stride[1]];
  if (x.rank !== 4 || filter.rank !== 4 || x.shape[3] !== filter.shape[2]) {
    throw new Error(`conv2d: x [${x.shape}] and filter [${filter.shape}] must be [B,H,W,C] and [kh,kw,C,Cout]`);
  }
  if (pad.length !== 4 || pad.some((p) => !Number.isInteger(p) || p < 0)) {
    throw new Error(`conv2d: pad must be 4 non-negative integers [top, bottom, left, right], got [${pad}]`);
  }
  if (hasFastKernel(FAST_KERNELS.conv2d)) {
    return tf.engine().runKernel(FAST_KERNELS.conv2d, { x, filter }, { strides, pad: [...pad] }) as tf.Tensor4D;
  }
  const [top, bottom, left, right] = pad;
  if (top + bottom + left + right === 0) return tf.conv2d(x, filter, strides, 'valid');
  return tf.tidy(() => {
    const padded = tf.pad(x, [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ]);
    return tf.conv2d(padded, filter, strides, 'valid');
  });
}
