import { join } from 'node:path';
import type { Dataset, ImageSet } from '../image-set.js';
import { corruptFile, readClassNames, readDataFile, resolveDataDir } from './files.js';

/**
 * CIFAR-10 / CIFAR-100 "binary version" (https://www.cs.toronto.edu/~kriz/cifar.html): records of
 * label byte(s) then 3072 bytes of 32x32 R, G, B planes (CHW). Converted to HWC here.
 */

const SIDE = 32;
const PIXELS = SIDE * SIDE;
const IMAGE_BYTES = 3 * PIXELS;

export const CIFAR10_CLASS_NAMES: readonly string[] = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
];

/** CIFAR-100 fine labels in label order (the archive's `fine_label_names.txt`). */
export const CIFAR100_CLASS_NAMES: readonly string[] = [
  'apple', 'aquarium_fish', 'baby', 'bear', 'beaver', 'bed', 'bee', 'beetle', 'bicycle', 'bottle',
  'bowl', 'boy', 'bridge', 'bus', 'butterfly', 'camel', 'can', 'castle', 'caterpillar', 'cattle',
  'chair', 'chimpanzee', 'clock', 'cloud', 'cockroach', 'couch', 'crab', 'crocodile', 'cup', 'dinosaur',
  'dolphin', 'elephant', 'flatfish', 'forest', 'fox', 'girl', 'hamster', 'house', 'kangaroo', 'keyboard',
  'lamp', 'lawn_mower', 'leopard', 'lion', 'lizard', 'lobster', 'man', 'maple_tree', 'motorcycle', 'mountain',
  'mouse', 'mushroom', 'oak_tree', 'orange', 'orchid', 'otter', 'palm_tree', 'pear', 'pickup_truck', 'pine_tree',
  'plain', 'plate', 'poppy', 'porcupine', 'possum', 'rabbit', 'raccoon', 'ray', 'road', 'rocket',
  'rose', 'sea', 'seal', 'shark', 'shrew', 'skunk', 'skyscraper', 'snail', 'snake', 'spider',
  'squirrel', 'streetcar', 'sunflower', 'sweet_pepper', 'table', 'tank', 'telephone', 'television', 'tiger', 'tractor',
  'train', 'trout', 'tulip', 'turtle', 'wardrobe', 'whale', 'willow_tree', 'wolf', 'woman', 'worm',
];

/** CIFAR-10 normalisation (docs/methods.md §4; DASO `lib/dataset/transform/build.py`). */
export const CIFAR10_MEAN: readonly number[] = [0.4914, 0.4822, 0.4465];
export const CIFAR10_STD: readonly number[] = [0.2471, 0.2435, 0.2616];
/** CIFAR-100 normalisation as DASO's `build.py` has it (follows the official code, which trained the published numbers). */
export const CIFAR100_MEAN: readonly number[] = [0.5071, 0.4865, 0.4409];
export const CIFAR100_STD: readonly number[] = [0.2673, 0.2564, 0.2762];

/** Records in each CIFAR-10 batch file (data_batch_1..5.bin, test_batch.bin). */
const CIFAR10_RECORDS_PER_FILE = 10_000;

/** Records per training and per test file; the defaults are the format's (tests pass tiny files). */
export interface RecordCounts {
  readonly train: number;
  readonly test: number;
}

/**
 * Parses concatenated CIFAR binary files into one HWC image set.
 * @param labelBytes 1 for CIFAR-10 (label), 2 for CIFAR-100 (coarse, fine)
 * @param labelOffset which label byte to keep (CIFAR-100: 1 = fine)
 * @param expectedRecords records every file must hold (the format's count); unchecked when absent
 */
export function parseCifarRecords(
  files: ReadonlyArray<{ path: string; bytes: Uint8Array }>,
  labelBytes: number,
  labelOffset: number,
  numClasses: number,
  expectedRecords?: number,
): ImageSet {
  const record = labelBytes + IMAGE_BYTES;
  let count = 0;
  for (const f of files) {
    if (f.bytes.length === 0 || f.bytes.length % record !== 0) {
      throw corruptFile(f.path, `has ${f.bytes.length} bytes, not a positive multiple of the ${record}-byte record`);
    }
    // A file cut at a record boundary parses cleanly: only the format's record count catches it.
    if (expectedRecords !== undefined && f.bytes.length / record !== expectedRecords) {
      throw corruptFile(f.path, `has ${f.bytes.length / record} records, the format defines ${expectedRecords} per file`);
    }
    count += f.bytes.length / record;
  }
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Int32Array(count);
  let n = 0;
  for (const f of files) {
    const records = f.bytes.length / record;
    for (let r = 0; r < records; r++, n++) {
      const base = r * record;
      const y = f.bytes[base + labelOffset];
      if (y >= numClasses) {
        throw corruptFile(f.path, `has label ${y} in record ${r}, expected 0..${numClasses - 1}`);
      }
      labels[n] = y;
      const src = base + labelBytes;
      const dst = n * IMAGE_BYTES;
      for (let p = 0; p < PIXELS; p++) {
        images[dst + 3 * p] = f.bytes[src + p];
        images[dst + 3 * p + 1] = f.bytes[src + PIXELS + p];
        images[dst + 3 * p + 2] = f.bytes[src + 2 * PIXELS + p];
      }
    }
  }
  return { images, labels, count, height: SIDE, width: SIDE, channels: 3 };
}

async function readAll(paths: readonly string[], name: string): Promise<Array<{ path: string; bytes: Uint8Array }>> {
  return Promise.all(paths.map(async (path) => ({ path, bytes: await readDataFile(path, name) })));
}

/**
 * CIFAR-10 from `cifar-10-batches-bin/` (or its parent): `data_batch_1.bin` .. `data_batch_5.bin`
 * (train, 50,000) and `test_batch.bin` (10,000); class names from `batches.meta.txt` when present.
 */
export async function loadCifar10(dataDir: string | undefined, recordsPerFile: RecordCounts = { train: CIFAR10_RECORDS_PER_FILE, test: CIFAR10_RECORDS_PER_FILE }): Promise<Dataset> {
  const dir = resolveDataDir('cifar10', dataDir, 'cifar-10-batches-bin');
  const trainPaths = [1, 2, 3, 4, 5].map((i) => join(dir, `data_batch_${i}.bin`));
  const [trainFiles, testFiles, classNames] = await Promise.all([
    readAll(trainPaths, 'cifar10'),
    readAll([join(dir, 'test_batch.bin')], 'cifar10'),
    readClassNames(join(dir, 'batches.meta.txt'), CIFAR10_CLASS_NAMES),
  ]);
  return {
    name: 'cifar10',
    numClasses: 10,
    classNames,
    train: parseCifarRecords(trainFiles, 1, 0, 10, recordsPerFile.train),
    test: parseCifarRecords(testFiles, 1, 0, 10, recordsPerFile.test),
    mean: CIFAR10_MEAN,
    std: CIFAR10_STD,
  };
}

/**
 * CIFAR-100 from `cifar-100-binary/` (or its parent): `train.bin` (50,000) and `test.bin` (10,000),
 * records of <coarse label><fine label><3072 bytes>; the fine label (100 classes) is used.
 */
export async function loadCifar100(dataDir: string | undefined, recordsPerFile: RecordCounts = { train: 50_000, test: 10_000 }): Promise<Dataset> {
  const dir = resolveDataDir('cifar100', dataDir, 'cifar-100-binary');
  const [trainFiles, testFiles, classNames] = await Promise.all([
    readAll([join(dir, 'train.bin')], 'cifar100'),
    readAll([join(dir, 'test.bin')], 'cifar100'),
    readClassNames(join(dir, 'fine_label_names.txt'), CIFAR100_CLASS_NAMES),
  ]);
  return {
    name: 'cifar100',
    numClasses: 100,
    classNames,
    train: parseCifarRecords(trainFiles, 2, 1, 100, recordsPerFile.train),
    test: parseCifarRecords(testFiles, 2, 1, 100, recordsPerFile.test),
    mean: CIFAR100_MEAN,
    std: CIFAR100_STD,
  };
}
