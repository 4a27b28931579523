import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import sharp, { type OutputInfo } from 'sharp';
import { UserError } from '../../errors.js';
import type { Dataset, ImageSet } from '../image-set.js';
import { DATA_README, resolveDataDir } from './files.js';
import { resizeBilinear } from './resize.js';
import { channelMeanStd } from './stats.js';

/**
 * A dataset of image files, one sub-folder per class:
 * ```
 * <dir>/train/<class>/*.png|jpg|jpeg|webp|gif|tif|tiff|bmp
 * <dir>/test/<class>/*
 * ```
 * Classes are the sub-folders of `train/`, sorted by name (code-point order, like torchvision's
 * ImageFolder); their index is the label. `test/` may omit classes but not add new ones. Files are
 * read in sorted order, so indices into the training set (split files) are stable.
 * Each image is decoded with sharp (alpha dropped), converted to grey with Pillow's
 * `convert('L')` weights when `channels` is 1, and resized to `size`x`size` with Pillow's bilinear
 * filter ({@link resizeBilinear}, as torchvision's `Resize((size, size))`; aspect ratio not kept).
 */
export interface ImageFolderOptions {
  /** Output side in pixels; default 32. */
  readonly size?: number;
  /** 3 (RGB, default) or 1 (grey). */
  readonly channels?: 1 | 3;
  /** Files decoded at once; default 8. */
  readonly concurrency?: number;
  /** Largest image (width × height) decoded; default {@link MAX_IMAGE_PIXELS}. */
  readonly maxPixels?: number;
}

/**
 * Largest input image decoded, 40 megapixels: a dataset image beyond it is almost always a wrong
 * file (a panorama, a scan), and decoding it would take the memory of thousands of training images.
 */
export const MAX_IMAGE_PIXELS = 40_000_000;

export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.bmp'];

/** Loads `<dir>/train` and `<dir>/test`; mean/std are computed from the training images. */
export async function loadImageFolder(dataDir: string | undefined, opts: ImageFolderOptions = {}): Promise<Dataset> {
  if (dataDir === undefined) {
    throw new UserError(
      '--data-dir',
      'the image-folder dataset needs a folder',
      `Pass --data-dir <dir> with <dir>/train/<class>/*.png and <dir>/test/<class>/*.png; see ${DATA_README}.`,
    );
  }
  const size = opts.size ?? 32;
  const channels = opts.channels ?? 3;
  if (!Number.isInteger(size) || size < 1) throw new UserError('imageSize', `got ${size}`, 'Give a positive integer side in pixels.');
  const dir = resolveDataDir('image-folder', dataDir, null);
  const trainDir = join(dir, 'train');
  const testDir = join(dir, 'test');
  const classNames = listDirs(trainDir, 'train');
  if (classNames.length < 2) {
    throw new UserError(trainDir, `has ${classNames.length} class folder(s)`, 'Put one sub-folder per class (at least 2) in train/.');
  }
  for (const c of listDirs(testDir, 'test')) {
    if (!classNames.includes(c)) {
      throw new UserError(join(testDir, c), `class "${c}" is not among the training classes (${classNames.join(', ')})`, 'Use the same class folder names in train/ and test/.');
    }
  }
  const decode = { size, channels, concurrency: opts.concurrency ?? 8, maxPixels: opts.maxPixels ?? MAX_IMAGE_PIXELS };
  const train = await loadSplit(trainDir, classNames, decode, true);
  const test = await loadSplit(testDir, classNames, decode, false);
  const { mean, std } = channelMeanStd(train);
  return { name: 'image-folder', numClasses: classNames.length, classNames, train, test, mean, std };
}

interface DecodeOptions {
  readonly size: number;
  readonly channels: 1 | 3;
  readonly concurrency: number;
  readonly maxPixels: number;
}

async function loadSplit(splitDir: string, classNames: readonly string[], opts: DecodeOptions, required: boolean): Promise<ImageSet> {
  const files: string[] = [];
  const labels: number[] = [];
  classNames.forEach((c, label) => {
    const classDir = join(splitDir, c);
    if (!isDir(classDir)) return;
    const before = files.length;
    for (const f of readdirSync(classDir).sort()) {
      if (IMAGE_EXTENSIONS.includes(extname(f).toLowerCase())) {
        files.push(join(classDir, f));
        labels.push(label);
      }
    }
    // An empty class would surface later as impossible split advice ("use at most 0 per class").
    if (files.length === before) {
      throw new UserError(classDir, `is an empty class folder (no ${IMAGE_EXTENSIONS.join(', ')} files)`, `Remove the folder, or put the class's images in it.`);
    }
  });
  if (files.length === 0) {
    throw new UserError(
      splitDir,
      `holds no images (${IMAGE_EXTENSIONS.join(', ')})${required ? '' : ': a test set is needed for evaluation'}`,
      `Put images in ${basename(splitDir)}/<class>/; see ${DATA_README}.`,
    );
  }
  const bytes = opts.size * opts.size * opts.channels;
  const images = new Uint8Array(files.length * bytes);
  // Files are taken in order and, after a failure, no new ones start, so every file before the
  // failing one has been tried: throwing the lowest-index failure names the first bad file in
  // sorted order, whichever decode happened to finish first.
  let next = 0;
  const failures: { index: number; error: unknown }[] = [];
  const worker = async (): Promise<void> => {
    while (next < files.length && failures.length === 0) {
      const i = next++;
      try {
        images.set(await decodeImage(files[i], opts), i * bytes);
      } catch (error) {
        failures.push({ index: i, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker));
  if (failures.length > 0) throw failures.reduce((a, b) => (b.index < a.index ? b : a)).error;
  return {
    images,
    labels: Int32Array.from(labels),
    count: files.length,
    height: opts.size,
    width: opts.size,
    channels: opts.channels,
  };
}

/** Decodes one file to [size, size, channels] uint8. */
export async function decodeImage(file: string, opts: { size: number; channels: 1 | 3; maxPixels?: number }): Promise<Uint8Array> {
  const maxPixels = opts.maxPixels ?? MAX_IMAGE_PIXELS;
  let raw: { data: Buffer; info: OutputInfo };
  try {
    // The header first: an over-large image is refused before its pixels are decoded.
    const { width = 0, height = 0 } = await sharp(file).metadata();
    if (width * height > maxPixels) {
      throw new UserError(file, `is ${width}x${height} = ${width * height} pixels, over the limit of ${maxPixels}`, 'Remove the file or downscale it; dataset images are usually well under a megapixel.');
    }
    raw = await sharp(file, { limitInputPixels: maxPixels }).removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(file, `cannot be decoded as an image (${(e as Error).message})`, 'Remove or replace the file.');
  }
  const { width, height } = raw.info;
  let rgb = new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
  if (raw.info.channels !== 3) {
    // Grey input that stayed single-channel: replicate to RGB so the conversion below is uniform.
    const src = rgb;
    const ch = raw.info.channels;
    rgb = new Uint8Array(width * height * 3);
    for (let p = 0; p < width * height; p++) for (let c = 0; c < 3; c++) rgb[3 * p + c] = src[p * ch + Math.min(c, ch - 1)];
  }
  let img = rgb;
  if (opts.channels === 1) {
    img = new Uint8Array(width * height);
    // Pillow's RGB -> L: (R·19595 + G·38470 + B·7471 + 0x8000) >> 16 (ITU-R 601-2 luma).
    for (let p = 0; p < width * height; p++) {
      img[p] = (rgb[3 * p] * 19595 + rgb[3 * p + 1] * 38470 + rgb[3 * p + 2] * 7471 + 0x8000) >>> 16;
    }
  }
  return resizeBilinear(img, height, width, opts.channels, opts.size, opts.size);
}

function listDirs(dir: string, what: string): string[] {
  if (!isDir(dir)) {
    throw new UserError(
      dir,
      `the image folder has no ${what}/ sub-folder`,
      `Lay the images out as <dir>/train/<class>/*.png and <dir>/test/<class>/*.png; see ${DATA_README}.`,
    );
  }
  return readdirSync(dir)
    .filter((d) => !d.startsWith('.') && isDir(join(dir, d)))
    .sort();
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
