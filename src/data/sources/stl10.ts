import { join } from 'node:path';
import type { Dataset, ImageSet } from '../image-set.js';
import { CIFAR10_MEAN, CIFAR10_STD } from './cifar.js';
import { corruptFile, readClassNames, readDataFile, resolveDataDir } from './files.js';
import { resizeBilinear } from './resize.js';

/**
 * STL-10 binary version (https://cs.stanford.edu/~acoates/stl10/): `train_X.bin` (5,000 images),
 * `train_y.bin`, `test_X.bin` (8,000), `test_y.bin`. Each image is 3x96x96 bytes stored
 * column-major per channel (byte c·9216 + x·96 + y holds pixel (y, x) of channel c); labels are
 * bytes 1..10. `unlabeled_X.bin` (100,000 images without labels) is not read: the long-tailed split
 * draws its unlabeled set from the labeled training images.
 */

export const STL10_CLASS_NAMES: readonly string[] = [
  'airplane', 'bird', 'car', 'cat', 'deer', 'dog', 'horse', 'monkey', 'ship', 'truck',
];

const SIDE = 96;
const PLANE = SIDE * SIDE;
const IMAGE_BYTES = 3 * PLANE;

/** Default output side: DASO's STL-10 configs set `RESOLUTION: 32`. */
export const STL10_DEFAULT_SIZE = 32;

/**
 * Converts STL-10's column-major CHW bytes to HWC and resizes each image to `size` with Pillow's
 * bilinear filter (as DASO's `transforms.Resize((32, 32))`).
 *
 * DASO resizes inside the augmentation, after a random crop of the 96-px image with 4-px reflect
 * padding; we resize once at load time (docs/methods.md §4), so training crops pad 4 px at 32 px.
 * Evaluation images (DASO: resize only) are identical.
 */
export function parseStl10(xBytes: Uint8Array, yBytes: Uint8Array, xPath: string, yPath: string, size: number): ImageSet {
  if (xBytes.length === 0 || xBytes.length % IMAGE_BYTES !== 0) {
    throw corruptFile(xPath, `has ${xBytes.length} bytes, not a positive multiple of ${IMAGE_BYTES} (3x96x96)`);
  }
  const count = xBytes.length / IMAGE_BYTES;
  if (yBytes.length !== count) throw corruptFile(yPath, `holds ${yBytes.length} labels but ${xPath} holds ${count} images`);
  const outBytes = size * size * 3;
  const images = new Uint8Array(count * outBytes);
  const labels = new Int32Array(count);
  const hwc = new Uint8Array(IMAGE_BYTES);
  for (let n = 0; n < count; n++) {
    const y = yBytes[n];
    if (y < 1 || y > 10) throw corruptFile(yPath, `has label ${y} at position ${n}, expected 1..10`);
    labels[n] = y - 1;
    const base = n * IMAGE_BYTES;
    for (let c = 0; c < 3; c++) {
      for (let col = 0; col < SIDE; col++) {
        for (let row = 0; row < SIDE; row++) hwc[(row * SIDE + col) * 3 + c] = xBytes[base + c * PLANE + col * SIDE + row];
      }
    }
    images.set(size === SIDE ? hwc : resizeBilinear(hwc, SIDE, SIDE, 3, size, size), n * outBytes);
  }
  return { images, labels, count, height: size, width: size, channels: 3 };
}

/**
 * STL-10 from `stl10_binary/` (or its parent). Normalised with CIFAR-10's mean/std, as DASO's
 * `build.py` does for STL-10.
 * @param size output side in pixels (default 32, DASO's `RESOLUTION`; 96 keeps the original)
 */
export async function loadStl10(dataDir: string | undefined, size = STL10_DEFAULT_SIZE): Promise<Dataset> {
  const dir = resolveDataDir('stl10', dataDir, 'stl10_binary');
  const p = (f: string): string => join(dir, f);
  const [trainX, trainY, testX, testY, classNames] = await Promise.all([
    readDataFile(p('train_X.bin'), 'stl10'),
    readDataFile(p('train_y.bin'), 'stl10'),
    readDataFile(p('test_X.bin'), 'stl10'),
    readDataFile(p('test_y.bin'), 'stl10'),
    readClassNames(p('class_names.txt'), STL10_CLASS_NAMES),
  ]);
  return {
    name: 'stl10',
    numClasses: 10,
    classNames,
    train: parseStl10(trainX, trainY, p('train_X.bin'), p('train_y.bin'), size),
    test: parseStl10(testX, testY, p('test_X.bin'), p('test_y.bin'), size),
    mean: CIFAR10_MEAN,
    std: CIFAR10_STD,
  };
}
