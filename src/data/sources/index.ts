import { UserError } from '../../errors.js';
import type { Dataset } from '../image-set.js';
import { loadCifar10, loadCifar100 } from './cifar.js';
import { FASHION_MNIST_INFO, MNIST_INFO, loadEmbeddedFashionMnist } from './embedded.js';
import { DATA_README } from './files.js';
import { loadIdxFromDataDir } from './idx.js';
import { loadImageFolder } from './image-folder.js';
import { loadStl10 } from './stl10.js';

/** Names accepted by `--dataset`. */
export const DATASET_NAMES = ['fashion-mnist', 'mnist', 'cifar10', 'cifar100', 'stl10', 'image-folder'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export interface LoadDatasetOptions {
  readonly name: DatasetName | string;
  /**
   * Folder with the dataset's files. Without it: `fashion-mnist` uses the embedded copy; the others
   * look in `$SSL_DATA_DIR/<name>`, then `./data/<name>`; `image-folder` requires it.
   */
  readonly dataDir?: string;
  /** Output side for `image-folder` (default 32) and `stl10` (default 32, DASO's RESOLUTION). */
  readonly imageSize?: number;
  /** Channels for `image-folder`: 3 (default) or 1. */
  readonly channels?: 1 | 3;
}

/**
 * Loads a dataset as uint8 NHWC train/test sets with class names and normalisation constants.
 * @throws UserError for an unknown name (listing the valid ones), a missing folder or file (naming
 *   the path and where data is expected) or a truncated/corrupt file (naming it)
 */
export async function loadDataset(opts: LoadDatasetOptions): Promise<Dataset> {
  switch (opts.name) {
    case 'fashion-mnist':
      return opts.dataDir === undefined ? loadEmbeddedFashionMnist() : loadIdxFromDataDir(opts.dataDir, FASHION_MNIST_INFO);
    case 'mnist':
      return loadIdxFromDataDir(opts.dataDir, MNIST_INFO);
    case 'cifar10':
      return loadCifar10(opts.dataDir);
    case 'cifar100':
      return loadCifar100(opts.dataDir);
    case 'stl10':
      return loadStl10(opts.dataDir, opts.imageSize);
    case 'image-folder':
      return loadImageFolder(opts.dataDir, { size: opts.imageSize, channels: opts.channels });
    default:
      throw new UserError(
        '--dataset',
        `unknown dataset "${opts.name}"`,
        `Use one of: ${DATASET_NAMES.join(', ')} (formats in ${DATA_README}).`,
      );
  }
}

export { CIFAR10_CLASS_NAMES, CIFAR10_MEAN, CIFAR10_STD, CIFAR100_CLASS_NAMES, CIFAR100_MEAN, CIFAR100_STD, loadCifar10, loadCifar100, parseCifarRecords } from './cifar.js';
export { FASHION_MNIST_CLASS_NAMES, FASHION_MNIST_INFO, MNIST_INFO, embeddedFashionMnistDir, loadEmbeddedFashionMnist } from './embedded.js';
export { DATA_README, readDataFile, resolveDataDir } from './files.js';
export { loadIdxDataset, loadIdxFromDataDir, parseIdx, readIdx, type IdxArray, type IdxDatasetInfo } from './idx.js';
export { IMAGE_EXTENSIONS, decodeImage, loadImageFolder, type ImageFolderOptions } from './image-folder.js';
export { resizeBilinear } from './resize.js';
export { channelMeanStd } from './stats.js';
export { STL10_CLASS_NAMES, STL10_DEFAULT_SIZE, loadStl10, parseStl10 } from './stl10.js';
