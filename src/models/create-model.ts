import { UserError } from '../errors.js';
import { Rng } from '../util/rng.js';
import { cnnSmallParts } from './cnn-small.js';
import type { AuxHeadSpec, Classifier } from './model.js';
import { resnet32Parts } from './resnet32.js';
import { wrnParts } from './wrn.js';
import { LayerBuilder } from './layers.js';
import { createHead, type HeadSpec } from './heads.js';
import { ComposedClassifier, type AuxHeads } from './composed-classifier.js';
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
  /** Auxiliary linear heads on the pooled features (ABC, ReMixMatch's rotation head). */
  readonly auxHeads?: readonly AuxHeadSpec[];
  /** The auxiliary head whose predictions are the model's; default the classifier head. */
  readonly reportedHead?: string | null;
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
  const auxSpecs = opts.auxHeads ?? [];
  if (opts.bbn) {
    if (auxSpecs.length > 0) throw new Error('createModel: BBN takes no auxiliary heads');
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
  const headNames = newNames(b, before);
  const aux = auxHeadsOf(b, parts, auxSpecs, opts.reportedHead ?? null);
  const encode = (x: Parameters<NetParts['trunk']>[0], training: boolean) => last(parts.trunk(x, training), training);
  return new ComposedClassifier(net, opts.numClasses, parts.featureDim, b, encode, head, headNames, aux);
}

/** Builds the auxiliary heads after the classifier head, so the classifier's init draws are unchanged. */
function auxHeadsOf(b: LayerBuilder, parts: NetParts, specs: readonly AuxHeadSpec[], reported: string | null): AuxHeads {
  const names = specs.map((s) => s.name);
  if (new Set(names).size !== names.length) throw new Error(`createModel: auxiliary head names repeat in [${names.join(', ')}]`);
  for (const s of specs) {
    if (!/^[a-z][a-z0-9-]*$/.test(s.name) || !Number.isInteger(s.outputs) || s.outputs < 1) throw new Error(`createModel: bad auxiliary head ${JSON.stringify(s)}`);
  }
  const heads = specs.map((spec) => ({ spec, linear: b.linear(`aux.${spec.name}`, parts.featureDim, spec.outputs, parts.headInit) }));
  return { heads, reported };
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
