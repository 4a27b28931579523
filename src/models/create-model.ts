import { UserError } from '../errors.js';
import { Rng } from '../util/rng.js';
import { cnnSmallParts } from './cnn-small.js';
import type { Classifier } from './model.js';
import { resnet32Parts } from './resnet32.js';
import { wrnParts } from './wrn.js';
import { LayerBuilder } from './layers.js';
import { createHead, type HeadSpec } from './heads.js';
import { ComposedClassifier } from './composed-classifier.js';
import { BbnClassifier } from './bbn-classifier.js';
import type { NetParts } from './net-parts.js';

/** Architectures accepted by `--net`. */
export const NET_NAMES = ['cnn-small', 'wrn-28-2', 'resnet-32'] as const;
export type NetName = (typeof NET_NAMES)[number];

/** Options of `createModel`. */
export interface ModelOptions {
  /** Number of classes C of the head. */
  readonly numClasses: number;
  /** Channels of the NHWC input (1 for Fashion-MNIST, 3 for CIFAR/STL-10). */
  readonly inputChannels: number;
  /** Seed of the weight initialisation: same seed, same weights. */
  readonly seed: number;
  /** The head; default the net's linear head. */
  readonly head?: HeadSpec;
  /** BBN's two branches over one trunk (`BbnClassifier`). */
  readonly bbn?: boolean;
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
  const b = new LayerBuilder(new Rng(opts.seed));
  const parts = netParts(net, b, opts.inputChannels);
  const spec = opts.head ?? { kind: 'linear' };
  if (opts.bbn) {
    if (spec.kind !== 'linear') throw new Error(`createModel: BBN takes a linear head, got '${spec.kind}'`);
    const conventional = parts.lastBlock('');
    const rebalancing = parts.lastBlock('rb.');
    const before = variableNames(b);
    const head = createHead(b, parts.headPrefix, 2 * parts.featureDim, opts.numClasses, spec, parts.headInit);
    return new BbnClassifier(net, opts.numClasses, b, parts, conventional, rebalancing, head, newNames(b, before));
  }
  const last = parts.lastBlock('');
  const before = variableNames(b);
  const head = createHead(b, parts.headPrefix, parts.featureDim, opts.numClasses, spec, parts.headInit);
  const encode = (x: Parameters<NetParts['trunk']>[0], training: boolean) => last(parts.trunk(x, training), training);
  return new ComposedClassifier(net, opts.numClasses, parts.featureDim, b, encode, head, newNames(b, before));
}

function variableNames(b: LayerBuilder): Set<string> {
  return new Set([...b.params, ...b.buffers].map((v) => v.name));
}

function newNames(b: LayerBuilder, before: ReadonlySet<string>): string[] {
  return [...variableNames(b)].filter((n) => !before.has(n));
}

function netParts(net: string, b: LayerBuilder, inputChannels: number): NetParts {
  switch (net) {
    case 'cnn-small':
      return cnnSmallParts(b, inputChannels);
    case 'wrn-28-2':
      return wrnParts(b, inputChannels, 2);
    case 'resnet-32':
      return resnet32Parts(b, inputChannels);
    default:
      throw new UserError('net', `unknown net '${net}'`, `Use one of: ${NET_NAMES.join(', ')}`);
  }
}
