import type { Dataset, ImageSet } from '../../src/data/image-set.js';
import { Rng } from '../../src/util/rng.js';

/**
 * A tiny 4-class grey dataset a small CNN learns in a few dozen steps: horizontal stripes,
 * vertical stripes, a checkerboard and a centred blob, with per-image noise and phase. The
 * patterns survive flips and small translations, so augmentation does not change the label.
 */
export function syntheticDataset(opts: { size?: number; trainPerClass?: number; testPerClass?: number; seed?: number } = {}): Dataset {
  const size = opts.size ?? 16;
  const rng = new Rng(opts.seed ?? 123);
  const make = (perClass: number): ImageSet => {
    const count = perClass * 4;
    const images = new Uint8Array(count * size * size);
    const labels = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const c = i % 4;
      labels[i] = c;
      const phase = rng.int(4);
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          let v: number;
          if (c === 0) v = ((y + phase) >> 1) % 2;
          else if (c === 1) v = ((x + phase) >> 1) % 2;
          else if (c === 2) v = (((x + phase) >> 1) + (y >> 1)) % 2;
          else v = Math.hypot(x - size / 2 + 0.5, y - size / 2 + 0.5) < size / 4 ? 1 : 0;
          const noisy = 40 + v * 170 + rng.int(40);
          images[i * size * size + y * size + x] = noisy;
        }
      }
    }
    return { images, labels, count, height: size, width: size, channels: 1 };
  };
  return {
    name: 'synthetic',
    numClasses: 4,
    classNames: ['horizontal', 'vertical', 'checker', 'blob'],
    train: make(opts.trainPerClass ?? 120),
    test: make(opts.testPerClass ?? 40),
    mean: [0.5],
    std: [0.25],
  };
}
