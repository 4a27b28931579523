import * as tf from '@tensorflow/tfjs-core';
import { type BatchNorm, type Conv2d, type LayerBuilder, bnAct, convBnAct, globalAvgPool } from './layers.js';
import type { NetParts } from './net-parts.js';

/**
 * Pre-activation residual block of ytaek-oh/daso `lib/models/wrn.py` (class `residual`):
 *   activateFirst:  a = LReLU(BN(x));  out = shortcut(a) + conv(LReLU(BN(conv_s(a))))
 *   otherwise:      out = shortcut(x) + conv(LReLU(BN(conv_s(LReLU(BN(x))))))
 * shortcut = 1x1 conv with the block's stride when stride ≥ 2 or channels change, else identity
 * (so in later stages the shortcut sees the RAW input, as the official code does).
 */
interface Block {
  readonly preBn: BatchNorm;
  readonly conv1: Conv2d;
  readonly bn2: BatchNorm;
  readonly conv2: Conv2d;
  readonly shortcut: Conv2d | null;
  readonly activateFirst: boolean;
}

/**
 * Creates one block, variables in the official module registration order
 * (pre_act, identity, layer) and with its state_dict names.
 */
function createBlock(b: LayerBuilder, name: string, inC: number, outC: number, stride: number, activateFirst: boolean): Block {
  // The BN before the first conv lives in `pre_act.0` (registered before `identity`) or in
  // `layer.0` (registered after it); the layer indices shift by one accordingly.
  const hasShortcut = stride >= 2 || inC !== outC;
  const makeShortcut = (): Conv2d | null => (hasShortcut ? b.conv(`${name}.identity`, 1, inC, outC, stride, 0) : null);
  let preBn: BatchNorm;
  let shortcut: Conv2d | null;
  if (activateFirst) {
    preBn = b.batchNorm(`${name}.pre_act.0`, inC);
    shortcut = makeShortcut();
  } else {
    shortcut = makeShortcut();
    preBn = b.batchNorm(`${name}.layer.0`, inC);
  }
  const o = activateFirst ? 0 : 2;
  const conv1 = b.conv(`${name}.layer.${o}`, 3, inC, outC, stride, 1);
  const bn2 = b.batchNorm(`${name}.layer.${o + 1}`, outC);
  const conv2 = b.conv(`${name}.layer.${o + 3}`, 3, outC, outC, 1, 1);
  return { preBn, conv1, bn2, conv2, shortcut, activateFirst };
}

function applyBlock(block: Block, x: tf.Tensor4D, training: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const act = bnAct(block.preBn, x, training);
    const shortcutIn = block.activateFirst ? act : x;
    const residual = block.shortcut ? block.shortcut.apply(shortcutIn) : shortcutIn;
    const h = block.conv2.apply(convBnAct(block.conv1, block.bn2, act, training));
    return tf.add(residual, h);
  });
}

/**
 * WRN-28-k as ytaek-oh/daso `lib/models/wrn.py` + `classifier.py` (the TF FixMatch layout):
 * conv3x3(16), three stages of four blocks with 16k/32k/64k channels (stride 2 at the first block
 * of stages 2 and 3; first block of stage 1 activates before the residual), final
 * BN-LReLU(0.1)-global average pool -> 64k-d feature -> Linear(64k, C). No dropout.
 * WRN-28-2 with 10 classes and 3 input channels has 1,467,610 parameters, as the PyTorch model.
 * Variable names are the official state_dict keys (`encoder.init_conv.weight`,
 * `encoder.unit1.0.pre_act.0.weight`, ..., `classifier.classifier.bias`), in `parameters()` order.
 * The last block with the final BN (`unit3.3`, `unit4.0`) is where BBN branches.
 */
export function wrnParts(b: LayerBuilder, inputChannels: number, width: number): NetParts {
  const filters = [16, 16 * width, 32 * width, 64 * width];
  const initConv = b.conv('encoder.init_conv', 3, inputChannels, filters[0], 1, 1);
  const blocks: Block[] = [];
  for (let unit = 1; unit <= 3; unit++) {
    for (let i = 0; i < 4; i++) {
      if (unit === 3 && i === 3) break; // the last block belongs to `lastBlock`
      const inC = i === 0 ? filters[unit - 1] : filters[unit];
      const stride = i === 0 && unit > 1 ? 2 : 1;
      blocks.push(createBlock(b, `encoder.unit${unit}.${i}`, inC, filters[unit], stride, unit === 1 && i === 0));
    }
  }
  return {
    featureDim: filters[3],
    trunk: (x, training) =>
      tf.tidy(() => {
        let h = initConv.apply(x);
        for (const block of blocks) h = applyBlock(block, h, training);
        return h;
      }),
    lastBlock: (prefix) => {
      const block = createBlock(b, `${prefix}encoder.unit3.3`, filters[3], filters[3], 1, false);
      const finalBn = b.batchNorm(`${prefix}encoder.unit4.0`, filters[3]);
      return (h, training) => tf.tidy(() => globalAvgPool(bnAct(finalBn, applyBlock(block, h, training), training)));
    },
    headPrefix: 'classifier.classifier',
    headInit: 'xavier',
  };
}
