import type { ImageSet } from '../image-set.js';

/**
 * Per-channel mean and standard deviation of a uint8 image set, in 0..1 units (pixel / 255), over
 * all pixels of all images (population std, as torchvision-style normalisation constants are).
 */
export function channelMeanStd(set: ImageSet): { mean: number[]; std: number[] } {
  const c = set.channels;
  const sum = new Float64Array(c);
  const sumSq = new Float64Array(c);
  const { images } = set;
  for (let i = 0; i < images.length; i++) {
    const v = images[i];
    sum[i % c] += v;
    sumSq[i % c] += v * v;
  }
  const n = images.length / c;
  const mean: number[] = [];
  const std: number[] = [];
  for (let k = 0; k < c; k++) {
    const m = n > 0 ? sum[k] / n : 0;
    const variance = n > 0 ? Math.max(sumSq[k] / n - m * m, 0) : 0;
    mean.push(m / 255);
    std.push(Math.sqrt(variance) / 255);
  }
  return { mean, std };
}
