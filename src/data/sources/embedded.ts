import { fileURLToPath } from 'node:url';
import type { Dataset } from '../image-set.js';
import { loadIdxDataset, type IdxDatasetInfo } from './idx.js';

/** Fashion-MNIST class names in label order (zalandoresearch/fashion-mnist README). */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** Fashion-MNIST: 28x28x1, normalised with mean 0.2860, std 0.3530 (docs/methods.md §4). */
export const FASHION_MNIST_INFO: IdxDatasetInfo = {
  name: 'fashion-mnist',
  classNames: FASHION_MNIST_CLASS_NAMES,
  mean: [0.286],
  std: [0.353],
};

/** MNIST: 28x28x1, the usual mean 0.1307, std 0.3081. */
export const MNIST_INFO: IdxDatasetInfo = {
  name: 'mnist',
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  mean: [0.1307],
  std: [0.3081],
};

/**
 * The package's `datasets/fashion-mnist/` folder (the gz IDX files of Debian's
 * `dataset-fashion-mnist`, MIT). Resolved from this module's URL: the module sits three levels
 * below the package root both as `src/data/sources/embedded.ts` (vitest, tsx) and as
 * `dist/data/sources/embedded.js` (published build), so one relative path serves both.
 */
export function embeddedFashionMnistDir(): string {
  return fileURLToPath(new URL('../../../datasets/fashion-mnist/', import.meta.url));
}

/** The embedded default dataset: Fashion-MNIST, 60,000 train + 10,000 test, no download. */
export async function loadEmbeddedFashionMnist(): Promise<Dataset> {
  return loadIdxDataset(embeddedFashionMnistDir(), FASHION_MNIST_INFO);
}
