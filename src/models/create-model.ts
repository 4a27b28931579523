import { UserError } from '../errors.js';
import { Rng } from '../util/rng.js';
import { createCnnSmall } from './cnn-small.js';
import type { Classifier } from './model.js';
import { createResnet32 } from './resnet32.js';
import { createWrn } from './wrn.js';

/** Architectures accepted by `--net`. */
export const NET_NAMES = ['cnn-small', 'wrn-28-2', 'resnet-32'] as const;
export type NetName = (typeof NET_NAMES)[number];

/** Options of `createModel`. */
export interface ModelOptions {
  /** Number of classes C of the linear head. */
  readonly numClasses: number;
  /** Channels of the NHWC input (1 for Fashion-MNIST, 3 for CIFAR/STL-10). */
  readonly inputChannels: number;
  /** Seed of the weight initialisation: same seed, same weights. */
  readonly seed: number;
}

/** True when `net` names an architecture `createModel` builds. */
export function isNetName(net: string): net is NetName {
  return (NET_NAMES as readonly string[]).includes(net);
}

/**
 * Builds a freshly initialised classifier. wrn-28-2 and cnn-small: Kaiming-normal fan_out convs,
 * BN gamma 1 / beta 0, Xavier-normal head with zero bias (ytaek-oh/daso); resnet-32: LDAM-DRW's
 * init (see resnet32.ts). The caller owns it (`dispose()`).
 *
 * @throws UserError naming the valid nets when `net` is unknown.
 */
export function createModel(net: string, opts: ModelOptions): Classifier {
  for (const [field, value] of [
    ['numClasses', opts.numClasses],
    ['inputChannels', opts.inputChannels],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new UserError(field, `must be a positive integer, got ${value}`, `Pass an integer ≥ 1`);
    }
  }
  const rng = new Rng(opts.seed);
  switch (net) {
    case 'cnn-small':
      return createCnnSmall(opts.numClasses, opts.inputChannels, rng);
    case 'wrn-28-2':
      return createWrn(opts.numClasses, opts.inputChannels, 2, rng, net);
    case 'resnet-32':
      return createResnet32(opts.numClasses, opts.inputChannels, rng);
    default:
      throw new UserError('net', `unknown net '${net}'`, `Use one of: ${NET_NAMES.join(', ')}`);
  }
}
