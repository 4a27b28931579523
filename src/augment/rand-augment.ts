/**
 * RandAugment as FixMatch/DASO use it (ytaek-oh/daso `lib/dataset/transform/randaugment.py`,
 * pool "FixMatch" in `transformation.py`; docs/methods.md §4): 2 ops drawn WITH replacement from the
 * 14-op pool, each applied when u <= 0.5 (u uniform in [0,1)), with level uniform in 1..9
 * (`np.random.randint(1, 10)`); float magnitude = level/10·max + bias, integer magnitude =
 * int(level/10·max) + bias; rotate, shear and translate take a random sign. Cutout is separate
 * (`strongAugment`).
 */
import { autoContrast, equalize, identity, posterize, solarize } from './point-ops.js';
import { brightness, color, contrast, sharpness } from './enhance.js';
import { rotate, shearX, shearY, translateX, translateY } from './geometry.js';
import type { AugmentOp, ImageDims } from './image.js';
import type { Rng } from '../util/rng.js';

/** Names of the pool's ops, in the official pool's order (the draw indexes this order). */
export type RandAugmentOpName =
  | 'AutoContrast'
  | 'Brightness'
  | 'Color'
  | 'Contrast'
  | 'Equalize'
  | 'Identity'
  | 'Posterize'
  | 'Rotate'
  | 'Sharpness'
  | 'ShearX'
  | 'ShearY'
  | 'Solarize'
  | 'TranslateX'
  | 'TranslateY';

/** One pool entry: the op and how a level becomes its magnitude. */
export interface RandAugmentOpSpec {
  readonly name: RandAugmentOpName;
  readonly apply: AugmentOp;
  /** `none`: no magnitude; `float`: level/10·max + bias; `int`: int(level/10·max) + bias. */
  readonly kind: 'none' | 'float' | 'int';
  readonly max: number;
  readonly bias: number;
  /** Whether the magnitude gets a random sign (rotate, shear, translate). */
  readonly signed: boolean;
}

/** Solarize's pool op takes v and thresholds at 256 − v, as the official `Solarize`. */
const solarizeByAmount: AugmentOp = (img, dims, v) => solarize(img, dims, 256 - v);

/** The FixMatch pool (op, max, bias) of the official code, in its order. */
export const FIXMATCH_POOL: readonly RandAugmentOpSpec[] = [
  { name: 'AutoContrast', apply: autoContrast, kind: 'none', max: 0, bias: 0, signed: false },
  { name: 'Brightness', apply: brightness, kind: 'float', max: 0.9, bias: 0.05, signed: false },
  { name: 'Color', apply: color, kind: 'float', max: 0.9, bias: 0.05, signed: false },
  { name: 'Contrast', apply: contrast, kind: 'float', max: 0.9, bias: 0.05, signed: false },
  { name: 'Equalize', apply: equalize, kind: 'none', max: 0, bias: 0, signed: false },
  { name: 'Identity', apply: identity, kind: 'none', max: 0, bias: 0, signed: false },
  { name: 'Posterize', apply: posterize, kind: 'int', max: 4, bias: 4, signed: false },
  { name: 'Rotate', apply: rotate, kind: 'int', max: 30, bias: 0, signed: true },
  { name: 'Sharpness', apply: sharpness, kind: 'float', max: 0.9, bias: 0.05, signed: false },
  { name: 'ShearX', apply: shearX, kind: 'float', max: 0.3, bias: 0, signed: true },
  { name: 'ShearY', apply: shearY, kind: 'float', max: 0.3, bias: 0, signed: true },
  { name: 'Solarize', apply: solarizeByAmount, kind: 'int', max: 256, bias: 0, signed: false },
  { name: 'TranslateX', apply: translateX, kind: 'float', max: 0.3, bias: 0, signed: true },
  { name: 'TranslateY', apply: translateY, kind: 'float', max: 0.3, bias: 0, signed: true },
];

/** Options of RandAugment; defaults are the official ones. */
export interface RandAugmentOptions {
  /** Ops drawn per image, with replacement. Default 2. */
  readonly numOps?: number;
  /** Probability of applying each drawn op. Default 0.5 (official: applied when u <= 0.5). */
  readonly prob?: number;
  /** Levels are drawn uniformly from 1..maxLevel−1; official `RandAugment(2, 10)`: 1..9. */
  readonly maxLevel?: number;
  /** Op pool. Default `FIXMATCH_POOL`. */
  readonly pool?: readonly RandAugmentOpSpec[];
}

/** The magnitude of `spec` at `level` (1..9), before the sign: official `_float/_int_parameter`. */
export function opMagnitude(spec: RandAugmentOpSpec, level: number): number {
  if (spec.kind === 'float') return (level / 10) * spec.max + spec.bias;
  if (spec.kind === 'int') return Math.trunc((level / 10) * spec.max) + spec.bias;
  return 0;
}

/** One applied op, for inspection and tests. */
export interface AppliedOp {
  readonly name: RandAugmentOpName;
  readonly level: number;
  /** Signed magnitude passed to the op (0 for ops without one). */
  readonly magnitude: number;
}

/**
 * Applies RandAugment to one image. Draw order per op slot: op index `rng.int(pool)`, apply test
 * `rng.float() <= prob`; if applied: level `1 + rng.int(maxLevel−1)`, and for signed ops
 * `rng.float() < 0.5` negates. `record`, when given, receives the ops actually applied.
 */
export function randAugment(
  img: Uint8Array,
  dims: ImageDims,
  rng: Rng,
  opts: RandAugmentOptions = {},
  record?: AppliedOp[],
): Uint8Array {
  const pool = opts.pool ?? FIXMATCH_POOL;
  const numOps = opts.numOps ?? 2;
  const prob = opts.prob ?? 0.5;
  const maxLevel = opts.maxLevel ?? 10;
  let out = img;
  for (let k = 0; k < numOps; k++) {
    const spec = pool[rng.int(pool.length)];
    if (!(rng.float() <= prob)) continue;
    const level = 1 + rng.int(maxLevel - 1);
    let magnitude = opMagnitude(spec, level);
    if (spec.signed && rng.float() < 0.5) magnitude = -magnitude;
    out = spec.apply(out, dims, magnitude);
    record?.push({ name: spec.name, level, magnitude });
  }
  return out === img ? img.slice() : out;
}
