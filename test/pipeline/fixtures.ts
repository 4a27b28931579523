import type { ImageSet } from '../../src/data/image-set.js';
import { Rng } from '../../src/util/rng.js';

/** A random training set: `count` images of h x w x c, label = index % numClasses. */
export function randomSet(count: number, h: number, w: number, c: number, numClasses = 4, seed = 1): ImageSet {
  const rng = new Rng(seed);
  const images = new Uint8Array(count * h * w * c);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256);
  const labels = Int32Array.from({ length: count }, (_, i) => i % numClasses);
  return { images, labels, count, height: h, width: w, channels: c };
}

/** A set whose image i is filled with the value i (count <= 256): flips and crops keep it. */
export function constantSet(count: number, h: number, w: number, c: number, numClasses = 3): ImageSet {
  const size = h * w * c;
  const images = new Uint8Array(count * size);
  for (let i = 0; i < count; i++) images.fill(i, i * size, (i + 1) * size);
  const labels = Int32Array.from({ length: count }, (_, i) => (i * 7) % numClasses);
  return { images, labels, count, height: h, width: w, channels: c };
}
