/**
 * The one place where uint8 images become a float tensor (docs/ARCHITECTURE.md, "Data stays uint8").
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * uint8 NHWC images -> float32 [n, h, w, c] tensor normalised per channel, (x/255 − mean_c)/std_c.
 * Computed as torchvision's ToTensor + Normalize do in float32 (x/255 rounded to float32, then the
 * subtraction and the division each rounded), via a 256-entry table per channel.
 * Borrows `images`; the caller owns (and disposes) the returned tensor.
 *
 * @param images uint8, length n·h·w·c, NHWC
 * @param mean per-channel mean in 0..1 units, length c
 * @param std per-channel std in 0..1 units, length c
 */
export function toInputTensor(
  images: Uint8Array,
  n: number,
  h: number,
  w: number,
  c: number,
  mean: readonly number[],
  std: readonly number[],
): tf.Tensor4D {
  if (images.length !== n * h * w * c) {
    throw new Error(`toInputTensor: images has ${images.length} bytes, expected ${n}x${h}x${w}x${c} = ${n * h * w * c}`);
  }
  if (mean.length !== c || std.length !== c) {
    throw new Error(`toInputTensor: mean/std must have ${c} entries, got ${mean.length}/${std.length}`);
  }
  const f32 = Math.fround;
  const luts = Array.from({ length: c }, (_, ch) => {
    const lut = new Float32Array(256);
    const m = f32(mean[ch]);
    const s = f32(std[ch]);
    if (!(s > 0)) throw new Error(`toInputTensor: std[${ch}] must be > 0, got ${std[ch]}`);
    for (let v = 0; v < 256; v++) lut[v] = f32(f32(f32(v / 255) - m) / s);
    return lut;
  });
  const data = new Float32Array(images.length);
  if (c === 1) {
    const lut = luts[0];
    for (let i = 0; i < images.length; i++) data[i] = lut[images[i]];
  } else {
    for (let i = 0; i < images.length; i++) data[i] = luts[i % c][images[i]];
  }
  return tf.tensor4d(data, [n, h, w, c], 'float32');
}
