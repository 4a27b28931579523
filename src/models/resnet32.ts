import * as tf from '@tensorflow/tfjs-core';
import { type BatchNorm, type Conv2d, type LayerBuilder, convBnAct, globalAvgPool } from './layers.js';
import type { NetParts } from './net-parts.js';

/** One basic block of ResNet-32 (LDAM-DRW `BasicBlock`, option A). */
interface BasicBlock {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm;
  /** Zero channels padded on each side by the option-A shortcut; null = identity shortcut. */
  readonly padChannels: number | null;
}

function applyBlock(block: BasicBlock, x: tf.Tensor4D, training: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const h = convBnAct(block.conv1, block.bn1, x, training, 'relu');
    const out = convBnAct(block.conv2, block.bn2, h, training, 'none');
    let shortcut = x;
    if (block.padChannels !== null) {
      // A 1x1 average pool at stride 2 is exactly x[:, ::2, ::2] and has a gradient on every backend.
      const sub = tf.avgPool(x, 1, 2, 'valid');
      shortcut = tf.pad(sub, [
        [0, 0],
        [0, 0],
        [0, 0],
        [block.padChannels, block.padChannels],
      ]);
    }
    return tf.relu(tf.add(out, shortcut)) as tf.Tensor4D;
  });
}

/**
 * CIFAR ResNet-32 of kaidic/LDAM-DRW `models/resnet_cifar.py` (He et al. 2016, option A):
 * conv3x3(16)-BN-ReLU, three stages of five basic blocks with 16/32/64 channels (stride 2 at the
 * first block of stages 2 and 3), global average pool -> 64-d feature -> Linear(64, C).
 * Basic block: out = ReLU(BN(conv(ReLU(BN(conv_s(x))))) + shortcut(x)); option-A shortcut when the
 * shape changes: x[:, ::2, ::2, :] with planes/4 zero channels padded on each side (no parameters).
 * Init as the official `_weights_init`: Kaiming-normal fan_in convs and head weight, BN 1/0,
 * head bias PyTorch's default uniform. 464,154 parameters for 10 classes.
 * Variable names are the official state_dict keys (`conv1.weight`, `layer1.0.bn1.weight`, ...,
 * `linear.bias`). The last block (`layer3.4`) is where BBN branches.
 */
export function resnet32Parts(b: LayerBuilder, inputChannels: number): NetParts {
  const conv1 = b.conv('conv1', 3, inputChannels, 16, 1, 1, 'fan_in');
  const bn1 = b.batchNorm('bn1', 16);
  const makeBlock = (name: string, inPlanes: number, planes: number, stride: number): BasicBlock => ({
    conv1: b.conv(`${name}.conv1`, 3, inPlanes, planes, stride, 1, 'fan_in'),
    bn1: b.batchNorm(`${name}.bn1`, planes),
    conv2: b.conv(`${name}.conv2`, 3, planes, planes, 1, 1, 'fan_in'),
    bn2: b.batchNorm(`${name}.bn2`, planes),
    padChannels: stride !== 1 || inPlanes !== planes ? Math.floor(planes / 4) : null,
  });
  const blocks: BasicBlock[] = [];
  let inPlanes = 16;
  [16, 32, 64].forEach((planes, stage) => {
    for (let i = 0; i < 5; i++) {
      if (stage === 2 && i === 4) break; // the last block belongs to `lastBlock`
      blocks.push(makeBlock(`layer${stage + 1}.${i}`, inPlanes, planes, i === 0 && stage > 0 ? 2 : 1));
      inPlanes = planes;
    }
  });
  return {
    featureDim: 64,
    trunk: (x, training) =>
      tf.tidy(() => {
        let h = convBnAct(conv1, bn1, x, training, 'relu');
        for (const block of blocks) h = applyBlock(block, h, training);
        return h;
      }),
    lastBlock: (prefix) => {
      const block = makeBlock(`${prefix}layer3.4`, 64, 64, 1);
      return (h, training) => tf.tidy(() => globalAvgPool(applyBlock(block, h, training)));
    },
    headPrefix: 'linear',
    headInit: 'kaiming',
  };
}
