import { mkdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Dataset, ImageSet } from '../../src/data/image-set.js';

/**
 * Writes a dataset as an image-folder tree (`<dir>/{train,test}/<class>/<i>.png`), so the CLI can
 * run on tiny data through `--dataset image-folder --data-dir <dir>`. Returns `dir`.
 */
export async function writeImageFolder(dir: string, dataset: Dataset): Promise<string> {
  const write = async (split: 'train' | 'test', set: ImageSet): Promise<void> => {
    const size = set.height * set.width * set.channels;
    for (const name of dataset.classNames) mkdirSync(path.join(dir, split, name), { recursive: true });
    await Promise.all(
      Array.from({ length: set.count }, (_, i) =>
        sharp(Buffer.from(set.images.subarray(i * size, (i + 1) * size)), { raw: { width: set.width, height: set.height, channels: set.channels as 1 | 3 } })
          .png()
          .toFile(path.join(dir, split, dataset.classNames[set.labels[i]], `${String(i).padStart(5, '0')}.png`)),
      ),
    );
  };
  await write('train', dataset.train);
  await write('test', dataset.test);
  return dir;
}
