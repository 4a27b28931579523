/** Augmentations on uint8 HWC images (no tfjs; safe in worker threads). */
export { assertImage, pixelCount, type AugmentOp, type ImageDims } from './image.js';
export { autoContrast, equalize, identity, posterize, solarize } from './point-ops.js';
export { blend, brightness, color, contrast, sharpness, smooth, toLuma } from './enhance.js';
export {
  affine,
  rotate,
  rotationMatrix,
  shearX,
  shearY,
  translateX,
  translateY,
  type AffineMatrix,
} from './geometry.js';
export { CUTOUT_FILL, cutout, cutoutBox, defaultCutoutSize, paintCutout, type CutoutBox } from './cutout.js';
export { flipHorizontal, reflectPadCrop, weakAugment, type WeakAugmentOptions } from './weak.js';
export {
  FIXMATCH_POOL,
  opMagnitude,
  randAugment,
  type AppliedOp,
  type RandAugmentOpName,
  type RandAugmentOpSpec,
  type RandAugmentOptions,
} from './rand-augment.js';
export { strongAugment, type StrongAugmentOptions } from './strong.js';
