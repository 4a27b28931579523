import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { CNN_SMALL_CHANNELS, POOL_AFTER } from '../models/cnn-small.js';
import { isBbnClassifier } from '../models/bbn-classifier.js';
import { BN_EPS, LEAKY_SLOPE } from '../models/layers.js';
import type { Classifier } from '../models/model.js';

/**
 * Our nets (src/models/{cnn-small,wrn,resnet32}.ts) rebuilt as tfjs-layers functional graphs
 * (`tf.input` → built-in layers → `tf.model`) holding a model's weights, so that plain
 * `@tensorflow/tfjs` runs them with `tf.loadLayersModel` and no code of ours. Each builder mirrors
 * its net's forward in evaluation mode:
 * - every layer carrying weights is named after our variables' prefix (`encoder.unit1.0.layer.2`
 *   holds `encoder.unit1.0.layer.2.weight`), so weights map by name, and every variable of the
 *   model must be used exactly once (a net that drifts from its builder fails the export);
 * - PyTorch's symmetric conv padding: 'same' where it equals it (3x3, stride 1), else
 *   ZeroPadding2D + 'valid' (TF's 'same' at stride 2 pads bottom/right only);
 * - BatchNorm in inference mode on the running statistics, ε = 1e-5; LeakyReLU 0.1 (WRN,
 *   cnn-small), ReLU (ResNet-32);
 * - ResNet-32's option-A shortcut (x[:, ::2, ::2] plus planes/4 zero channels each side) is a 1x1
 *   average pool at stride 2, then the channels padded by Permute → ZeroPadding2D → Permute: exact,
 *   with no weights.
 */

type Sym = tfl.SymbolicTensor;

/**
 * The head the graph ends in, one Dense layer: the classifier head, linear or LWS's (scales folded
 * in), or the auxiliary head the model reports (ABC's balanced head; auxiliary heads are linear).
 */
export type ExportHead = { readonly kind: 'linear' | 'lws' } | { readonly kind: 'aux'; readonly name: string };

/** tfjs-layers BatchNormalization weight -> our (PyTorch state_dict) suffix. */
const BN_WEIGHTS = { gamma: 'weight', beta: 'bias', moving_mean: 'running_mean', moving_variance: 'running_var' } as const;

/** Collects layers and the values their weights take, by tfjs weight name (`layer/kernel`). */
class GraphBuilder {
  private readonly ours: ReadonlyMap<string, tf.Variable>;
  private readonly values = new Map<string, tf.Tensor>();
  private readonly used = new Set<string>();
  /** Tensors made here (LWS's folded Dense); freed once the weights are set. */
  private readonly made: tf.Tensor[] = [];

  constructor(private readonly model: Classifier) {
    this.ours = new Map([...model.params, ...model.buffers].map((v) => [v.name, v.variable]));
  }

  has(name: string): boolean {
    return this.ours.has(name);
  }

  /** Our variable `name`, without marking it used. */
  peek(name: string): tf.Variable {
    const v = this.ours.get(name);
    if (!v) throw new Error(`export: the ${this.model.net} model has no variable ${name}`);
    return v;
  }

  /** Our variable `name`, marked used (each is used once). */
  private take(name: string): tf.Variable {
    if (this.used.has(name)) throw new Error(`export: variable ${name} used twice`);
    this.used.add(name);
    return this.peek(name);
  }

  /** The layers weight `weight` (`layer/kernel`) takes our variable `name`. */
  private use(weight: string, name: string): void {
    this.values.set(weight, this.take(name));
  }

  /** Bias-free conv, weight `${name}.weight` [k, k, Cin, Cout], PyTorch padding `pad` on each side. */
  conv(x: Sym, name: string, stride: number, pad: number): Sym {
    const [k, , , filters] = this.peek(`${name}.weight`).shape;
    let padding: 'same' | 'valid' = 'valid';
    let h = x;
    if (pad > 0 && stride === 1 && 2 * pad === k - 1) padding = 'same';
    else if (pad > 0) h = apply(tfl.layers.zeroPadding2d({ name: `${name}.pad`, padding: pad }), h);
    this.use(`${name}/kernel`, `${name}.weight`);
    return apply(tfl.layers.conv2d({ name, filters, kernelSize: k, strides: stride, padding, useBias: false }), h);
  }

  /** BatchNorm `${name}.{weight,bias,running_mean,running_var}` in inference mode. */
  batchNorm(x: Sym, name: string): Sym {
    for (const [theirs, ours] of Object.entries(BN_WEIGHTS)) this.use(`${name}/${theirs}`, `${name}.${ours}`);
    return apply(tfl.layers.batchNormalization({ name, axis: -1, epsilon: BN_EPS }), x);
  }

  /** LeakyReLU(0.1)(BN(x)), the WRN and cnn-small `bnAct`. */
  bnLeaky(x: Sym, name: string): Sym {
    return apply(tfl.layers.leakyReLU({ name: `${name}.act`, alpha: LEAKY_SLOPE }), this.batchNorm(x, name));
  }

  relu(x: Sym, name: string): Sym {
    return apply(tfl.layers.reLU({ name }), x);
  }

  add(a: Sym, b: Sym, name: string): Sym {
    return apply(tfl.layers.add({ name }), [a, b]);
  }

  /** ResNet-32's option-A shortcut: x[:, ::2, ::2, :] with `pad` zero channels on each side. */
  subsampleAndPadChannels(x: Sym, name: string, pad: number): Sym {
    const sub = apply(tfl.layers.averagePooling2d({ name: `${name}.subsample`, poolSize: 1, strides: 2, padding: 'valid' }), x);
    // [B, H, W, C] -> [B, H, C, W], zero-pad axis 2 (the channels), and back.
    const swapped = apply(tfl.layers.permute({ name: `${name}.to_hcw`, dims: [1, 3, 2] }), sub);
    const padded = apply(tfl.layers.zeroPadding2d({ name: `${name}.pad_channels`, padding: [[0, 0], [pad, pad]] }), swapped);
    return apply(tfl.layers.permute({ name: `${name}.to_hwc`, dims: [1, 3, 2] }), padded);
  }

  globalAvgPool(x: Sym, name: string): Sym {
    return apply(tfl.layers.globalAveragePooling2d({ name }), x);
  }

  /** The linear head `${prefix}.{weight,bias}`, or LWS's (xW + b)·s = x(W·s) + b·s as one Dense. */
  dense(x: Sym, prefix: string, lws: boolean): Sym {
    const [, units] = this.peek(`${prefix}.weight`).shape;
    if (!lws) {
      this.use(`${prefix}/kernel`, `${prefix}.weight`);
      this.use(`${prefix}/bias`, `${prefix}.bias`);
    } else {
      const [w, b, s] = ['weight', 'bias', 'scales'].map((v) => this.take(`${prefix}.${v}`));
      const kernel = tf.mul(w, s);
      const bias = tf.mul(b, s);
      this.made.push(kernel, bias);
      this.values.set(`${prefix}/kernel`, kernel);
      this.values.set(`${prefix}/bias`, bias);
    }
    return apply(tfl.layers.dense({ name: prefix, units }), x);
  }

  /**
   * The functional model from `input` to `output` with our weights; every variable must be used,
   * but those of the heads named in `leftOut` (heads the graph does not end in).
   */
  finish(input: Sym, output: Sym, name: string, leftOut: ReadonlySet<string>): tfl.LayersModel {
    const model = tfl.model({ inputs: input, outputs: output, name });
    try {
      const unused = [...this.ours.keys()].filter((n) => !this.used.has(n) && !leftOut.has(n));
      if (unused.length > 0) throw new Error(`export: the ${this.model.net} graph leaves out ${unused.length} variables of the model (${unused.slice(0, 3).join(', ')}, ...)`);
      model.setWeights(
        model.weights.map((w) => {
          const v = this.values.get(w.originalName);
          if (!v) throw new Error(`export: no value for the layers weight ${w.originalName}`);
          if (v.shape.join() !== w.shape.join()) throw new Error(`export: ${w.originalName} is [${w.shape}], ours [${v.shape}]`);
          return v;
        }),
      );
      return model;
    } catch (err) {
      model.dispose();
      throw err;
    } finally {
      this.made.forEach((t) => t.dispose());
    }
  }
}

function apply(layer: tfl.layers.Layer, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym;
}

/** A net's graph split as src/models/net-parts.ts splits it (BBN branches at the last block). */
interface GraphParts {
  readonly trunk: (g: GraphBuilder, x: Sym) => Sym;
  /** The last block and the global pool, variables prefixed `prefix`: trunk output -> features. */
  readonly lastBlock: (g: GraphBuilder, h: Sym, prefix: string) => Sym;
  readonly headPrefix: string;
}

/** cnn-small.ts: [conv3x3-BN-LReLU] x5, 2x2 max pools after the 2nd and 4th, global average pool. */
const cnnSmall: GraphParts = {
  trunk: (g, x) => {
    let h = x;
    for (let i = 0; i < CNN_SMALL_CHANNELS.length - 1; i++) {
      h = g.bnLeaky(g.conv(h, `encoder.conv${i + 1}`, 1, 1), `encoder.bn${i + 1}`);
      if (POOL_AFTER.has(i)) h = apply(tfl.layers.maxPooling2d({ name: `encoder.pool${i + 1}`, poolSize: 2, strides: 2, padding: 'valid' }), h);
    }
    return h;
  },
  lastBlock: (g, h, prefix) => {
    const i = CNN_SMALL_CHANNELS.length;
    return g.globalAvgPool(g.bnLeaky(g.conv(h, `${prefix}encoder.conv${i}`, 1, 1), `${prefix}encoder.bn${i}`), `${prefix}encoder.pool`);
  },
  headPrefix: 'classifier.classifier',
};

/** wrn.ts `applyBlock`: the pre-activation block; a 1x1 shortcut conv where the model has one. */
function wrnBlock(g: GraphBuilder, x: Sym, name: string, stride: number, activateFirst: boolean): Sym {
  const o = activateFirst ? 0 : 2;
  const act = g.bnLeaky(x, activateFirst ? `${name}.pre_act.0` : `${name}.layer.0`);
  const shortcutIn = activateFirst ? act : x;
  const residual = g.has(`${name}.identity.weight`) ? g.conv(shortcutIn, `${name}.identity`, stride, 0) : shortcutIn;
  const h = g.conv(g.bnLeaky(g.conv(act, `${name}.layer.${o}`, stride, 1), `${name}.layer.${o + 1}`), `${name}.layer.${o + 3}`, 1, 1);
  return g.add(residual, h, `${name}.add`);
}

/** wrn.ts: init conv, 3 stages of 4 blocks (stride 2 opening stages 2 and 3), BN-LReLU, pool. */
const wrn: GraphParts = {
  trunk: (g, x) => {
    let h = g.conv(x, 'encoder.init_conv', 1, 1);
    for (let unit = 1; unit <= 3; unit++) {
      for (let i = 0; i < 4; i++) {
        if (unit === 3 && i === 3) break;
        h = wrnBlock(g, h, `encoder.unit${unit}.${i}`, i === 0 && unit > 1 ? 2 : 1, unit === 1 && i === 0);
      }
    }
    return h;
  },
  lastBlock: (g, h, prefix) => {
    const out = wrnBlock(g, h, `${prefix}encoder.unit3.3`, 1, false);
    return g.globalAvgPool(g.bnLeaky(out, `${prefix}encoder.unit4.0`), `${prefix}encoder.pool`);
  },
  headPrefix: 'classifier.classifier',
};

/** resnet32.ts `applyBlock`: ReLU(BN(conv(ReLU(BN(conv_s(x))))) + shortcut(x)), option-A shortcut. */
function basicBlock(g: GraphBuilder, x: Sym, name: string, stride: number): Sym {
  const [, , inPlanes, planes] = g.peek(`${name}.conv1.weight`).shape;
  const h = g.relu(g.batchNorm(g.conv(x, `${name}.conv1`, stride, 1), `${name}.bn1`), `${name}.bn1.relu`);
  const out = g.batchNorm(g.conv(h, `${name}.conv2`, 1, 1), `${name}.bn2`);
  const shortcut = stride !== 1 || inPlanes !== planes ? g.subsampleAndPadChannels(x, `${name}.shortcut`, Math.floor(planes / 4)) : x;
  return g.relu(g.add(out, shortcut, `${name}.add`), `${name}.relu`);
}

/** resnet32.ts: conv-BN-ReLU, 3 stages of 5 basic blocks (stride 2 opening stages 2 and 3), pool. */
const resnet32: GraphParts = {
  trunk: (g, x) => {
    let h = g.relu(g.batchNorm(g.conv(x, 'conv1', 1, 1), 'bn1'), 'bn1.relu');
    for (let stage = 0; stage < 3; stage++) {
      for (let i = 0; i < 5; i++) {
        if (stage === 2 && i === 4) break;
        h = basicBlock(g, h, `layer${stage + 1}.${i}`, i === 0 && stage > 0 ? 2 : 1);
      }
    }
    return h;
  },
  lastBlock: (g, h, prefix) => g.globalAvgPool(basicBlock(g, h, `${prefix}layer3.4`, 1), `${prefix}pool`),
  headPrefix: 'linear',
};

const GRAPHS: Readonly<Record<string, GraphParts>> = { 'cnn-small': cnnSmall, 'wrn-28-2': wrn, 'resnet-32': resnet32 };

/** Nets `layersModelOf` rebuilds. */
export const EXPORTABLE_NETS: readonly string[] = Object.keys(GRAPHS);

/**
 * `model` (borrowed) as a tfjs-layers functional model on input [B, ...inputShape] (H, W, C) giving
 * logits [B, C]: its net, BBN's two branches over one trunk (features [f_c ; f_r], as
 * `BbnClassifier.forward`), and `head` (the other heads are left out: the classifier head when an
 * auxiliary one is reported, auxiliary heads not reported such as a rotation head). The weights
 * are copies: the caller owns the result (`dispose()`), and `model` stays as it was.
 */
export function layersModelOf(model: Classifier, head: ExportHead, inputShape: readonly [number, number, number], name: string): tfl.LayersModel {
  const parts = GRAPHS[model.net];
  if (!parts) throw new Error(`export: no layers graph for net '${model.net}' (have ${EXPORTABLE_NETS.join(', ')})`);
  const g = new GraphBuilder(model);
  const input = tfl.input({ name: 'image', shape: [...inputShape] });
  const h = parts.trunk(g, input);
  const features = isBbnClassifier(model)
    ? apply(tfl.layers.concatenate({ name: 'features', axis: -1 }), [parts.lastBlock(g, h, ''), parts.lastBlock(g, h, 'rb.')])
    : parts.lastBlock(g, h, '');
  const auxPrefix = (n: string): string => `aux.${n}`;
  const logits = g.dense(features, head.kind === 'aux' ? auxPrefix(head.name) : parts.headPrefix, head.kind === 'lws');
  const leftOut = new Set([
    ...(head.kind === 'aux' ? model.headVariables : []),
    ...model.auxHeads.filter((h) => head.kind !== 'aux' || h.name !== head.name).flatMap((h) => [`${auxPrefix(h.name)}.weight`, `${auxPrefix(h.name)}.bias`]),
  ]);
  return g.finish(input, logits, name, leftOut);
}
