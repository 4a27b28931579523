import * as tf from '@tensorflow/tfjs-core';
import { FAST_KERNELS } from '../../ops/fast-kernels.js';
import { SCALAR_TYPE, type Native, type TorchBackend } from './backend.js';
import { BACKEND_NAME, defineKernel, padSpatial } from './kernels.js';

/**
 * The fused kernels of src/ops/fast-kernels.ts on the torch backend, and their gradients.
 *
 * tfjs's composite gradients for batch norm, LeakyReLU and softmax cross-entropy take many
 * kernels each (batch norm's is 17-28x slower than ATen's); here each is one ATen call forward
 * and one backward. Gradient functions compute all input gradients in ONE backward kernel when
 * the tape asks for the node, as PyTorch does; gradients the tape then does not use are freed with
 * the backward pass's scope.
 */

const BACKWARD = {
  conv2d: 'SslConv2DBackward',
  conv2dFilter: 'SslConv2DBackpropFilter',
  conv2dSlot: 'SslConv2DFilterGradSlot',
  batchNormTrain: 'SslBatchNormTrainBackward',
  batchNormActTrain: 'SslBatchNormActTrainBackward',
  leakyRelu: 'SslLeakyReluBackward',
  relu: 'SslReluBackward',
  mean: 'SslMeanBackward',
  softmaxCrossEntropy: 'SslSoftmaxCrossEntropyBackward',
  softCrossEntropy: 'SslSoftCrossEntropyBackward',
} as const;

type Pad4 = [number, number, number, number];

function info(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`torch backend: missing input '${name}'`);
  return t;
}

/**
 * Frees a node's output gradients and saved tensors as soon as its input gradients exist.
 * tfjs's tape keeps every intermediate gradient and saved activation until the whole backward
 * pass ends, twice PyTorch's peak memory on WRN-28-2; after this node nothing reads them: the
 * tape only hands each output gradient to the output's producer, and saved tensors are this
 * node's own clones (their final dispose() at the end of the pass is then a no-op). Not for
 * higher-order gradients, which our training never takes.
 */
function release(tensors: ReadonlyArray<tf.Tensor | null | undefined>): void {
  for (const t of tensors) t?.dispose();
}

function runMulti(name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap): tf.Tensor[] {
  return tf.engine().runKernel(name, inputs, attrs) as tf.Tensor[];
}

/** dlogits of −log softmax picked by labels: (softmax − onehot) · dy. */
function softmaxCeBackward(b: TorchBackend, dy: tf.TensorInfo, logProbs: tf.TensorInfo, labels: tf.TensorInfo): Native {
  const classes = logProbs.shape[1];
  const isLabel = b.aten('eq.Tensor', [b.aten('unsqueeze', [labels, 1]), b.aten('arange', [classes, SCALAR_TYPE.int32])]);
  const hot = b.aten('to.dtype', [isLabel, SCALAR_TYPE.float32]);
  const diff = b.aten('sub.Tensor', [b.aten('exp', [logProbs]), hot]);
  return b.aten('mul.Tensor', [diff, b.aten('unsqueeze', [dy, 1])]);
}

/**
 * Installs the gradient replacements below (Relu, Mean). Idempotent; called again when the
 * backend is created because a later import of tfjs's gradient registrations would put tfjs's
 * versions back.
 *
 * Relu: replaces tfjs's gradient of the built-in `Relu` kernel, dy·cast(step(x)), with one ATen
 * threshold_backward on the torch backend: tfjs's takes Step (five ATen ops, a third of a
 * ResNet-32 step) plus a cast and a multiply. Values are the same (dy where x > 0, else 0) except
 * for NaN inputs and the sign of zero. Gradients are global in tfjs, so the replacement keeps
 * tfjs's composite for every other backend.
 */
export function registerGradientOverrides(): void {
  registerMeanGradient();
  if (tf.getGradient('Relu')?.gradFunc === reluGradFunc) return;
  tf.registerGradient({ kernelName: 'Relu', inputsToSave: ['x'], gradFunc: reluGradFunc });
}

/**
 * Replaces tfjs's gradient of `Mean` on the torch backend: tfjs multiplies dy by a ones tensor of
 * x's shape (built in JavaScript and uploaded every step: 10 MB for cnn-small's global average
 * pool) and divides by the count; here dy/count is broadcast in one kernel. Same values: tfjs's
 * dy·1/count is dy/count exactly. Other backends keep tfjs's version (see registerGradientOverrides).
 */
function registerMeanGradient(): void {
  const base = tf.getGradient('Mean');
  if (base === undefined || base.gradFunc === meanGradFunc) return;
  meanBase = base.gradFunc;
  tf.registerGradient({ kernelName: 'Mean', inputsToSave: ['x'], gradFunc: meanGradFunc });
}

let meanBase: tf.GradFunc | undefined;

function meanGradFunc(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap): Record<string, () => tf.Tensor> {
  const [x] = saved;
  if (tf.getBackend() !== BACKEND_NAME && meanBase !== undefined) return meanBase(dy, saved, attrs) as Record<string, () => tf.Tensor>;
  const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
  const expanded = x.shape.map((d, k) => (axes.includes(k) ? 1 : d));
  const count = axes.reduce((p, k) => p * x.shape[k], 1);
  return {
    x: () => tf.engine().runKernel(BACKWARD.mean, { dy: dy as tf.Tensor, x }, { expanded, count }) as tf.Tensor,
  };
}

function reluGradFunc(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]): Record<string, () => tf.Tensor> {
  const [x] = saved;
  const g = dy as tf.Tensor;
  if (tf.getBackend() !== BACKEND_NAME) return { x: () => tf.mul(g, tf.cast(tf.step(x), 'float32')) };
  return {
    x: () => {
      const dx = tf.engine().runKernel(BACKWARD.relu, { dy: g, x }) as tf.Tensor;
      release([g, x]);
      return dx;
    },
  };
}

export function registerFusedKernels(): void {
  // ---- convolution with explicit [top, bottom, left, right] zero padding ----
  const convArgs = (attrs: tf.NamedAttrMap): { stride: number[]; pad: Pad4; sym: boolean } => {
    const pad = attrs.pad as Pad4;
    return { stride: attrs.strides as number[], pad, sym: pad[0] === pad[1] && pad[2] === pad[3] };
  };
  const pads = (p: Pad4) => ({ top: p[0], bottom: p[1], left: p[2], right: p[3] });
  defineKernel(FAST_KERNELS.conv2d, (b, i, a) => {
    const { stride, pad, sym } = convArgs(a);
    const x = info(i, 'x');
    const src = sym ? x : padSpatial(b, x, pads(pad));
    return b.native(b.addon.conv2d(b.handle(src), b.handle(info(i, 'filter')), stride, sym ? [pad[0], pad[2]] : [0, 0], [1, 1], 1));
  });
  // Both gradients from one convolution_backward; the filter gradient goes into `slot`.
  defineKernel(BACKWARD.conv2d, (b, i, a) => {
    const { stride, pad, sym } = convArgs(a);
    const x = info(i, 'x');
    const src = sym ? x : padSpatial(b, x, pads(pad));
    const [dxDesc, dwDesc] = b.addon.conv2dBackward(
      b.handle(info(i, 'dy')),
      b.handle(src),
      b.handle(info(i, 'filter')),
      stride,
      sym ? [pad[0], pad[2]] : [0, 0],
      [1, 1],
      1,
      true,
      true,
    );
    let dx = b.native(dxDesc as number[]);
    b.fill(info(i, 'slot'), b.native(dwDesc as number[]));
    if (!sym) {
      dx = b.aten('slice.Tensor', [dx, 1, pad[0], pad[0] + x.shape[1], 1]);
      dx = b.aten('contiguous', [b.aten('slice.Tensor', [dx, 2, pad[2], pad[2] + x.shape[2], 1])]);
    }
    return dx;
  });
  defineKernel(BACKWARD.conv2dFilter, (b, i, a) => {
    const { stride, pad, sym } = convArgs(a);
    const x = info(i, 'x');
    const src = sym ? x : padSpatial(b, x, pads(pad));
    const filter = info(i, 'filter');
    const dy = b.handle(info(i, 'dy'));
    return b.native(b.addon.conv2dBackpropFilter(b.handle(src), dy, filter.shape, stride, sym ? [pad[0], pad[2]] : [0, 0], [1, 1], 1));
  });
  defineKernel(BACKWARD.conv2dSlot, (b, i) => b.aten('empty_like', [info(i, 'filter')]));
  tf.registerGradient({
    kernelName: FAST_KERNELS.conv2d,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved;
      // The tape asks for x's gradient first, and only when x needs one (not for the network's
      // input). x() then also computes the filter gradient, in the same convolution_backward,
      // into a slot made here: made in the backward pass's scope, it is freed with it if unused.
      // The filter gradient comes last (trainable filters always need one): release there.
      const slot = tf.engine().runKernel(BACKWARD.conv2dSlot, { filter }) as tf.Tensor;
      let filled = false;
      return {
        x: () => {
          filled = true;
          return tf.engine().runKernel(BACKWARD.conv2d, { dy: dy as tf.Tensor, x, filter, slot }, attrs) as tf.Tensor;
        },
        filter: () => {
          const dw = filled ? slot : (tf.engine().runKernel(BACKWARD.conv2dFilter, { dy: dy as tf.Tensor, x, filter }, attrs) as tf.Tensor);
          release([dy as tf.Tensor, x, filter]);
          return dw;
        },
      };
    },
  });

  // ---- batch norm in training mode: ATen native_batch_norm / native_batch_norm_backward ----
  // ATen keeps 1/sqrt(var + eps); callers want the biased variance for the running statistics.
  const biasedVariance = (b: TorchBackend, invstd: Native, eps: number): Native => b.aten('sub.Scalar', [b.aten('pow.Tensor_Scalar', [invstd, -2]), eps]);
  /** [dx, dgamma, dbeta] of batch norm from dy and the forward's x, gamma, mean and invstd inputs. */
  const batchNormBackward = (b: TorchBackend, dy: tf.TensorInfo | Native, i: tf.NamedTensorInfoMap, eps: number): Native[] => {
    const [dx, dgamma, dbeta] = b.addon.batchNormTrainBackward(
      b.handle(dy),
      b.handle(info(i, 'x')),
      b.handle(info(i, 'gamma')),
      b.handle(info(i, 'mean')),
      b.handle(info(i, 'invstd')),
      eps,
      true,
      true,
      true,
    );
    return [b.native(dx as number[]), b.native(dgamma as number[]), b.native(dbeta as number[])];
  };
  defineKernel(FAST_KERNELS.batchNormTrain, (b, i, a) => {
    const eps = a.eps as number;
    const [y, mean, invstd] = b.addon.batchNormTrain(b.handle(info(i, 'x')), b.handle(info(i, 'gamma')), b.handle(info(i, 'beta')), eps);
    const invstdN = b.native(invstd);
    return [b.native(y), b.native(mean), biasedVariance(b, invstdN, eps), invstdN];
  });
  defineKernel(BACKWARD.batchNormTrain, (b, i, a) => batchNormBackward(b, info(i, 'dy'), i, a.eps as number));
  tf.registerGradient({
    kernelName: FAST_KERNELS.batchNormTrain,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, false, true],
    gradFunc: (dys, saved, attrs) => {
      // Only y carries a gradient: mean and variance feed the running statistics (see batch-norm.ts).
      const dy = (dys as tf.Tensor[])[0];
      const [x, gamma, mean, invstd] = saved;
      const [dx, dgamma, dbeta] = runMulti(BACKWARD.batchNormTrain, { dy, x, gamma, mean, invstd }, attrs);
      release([...(dys as tf.Tensor[]), ...saved]);
      return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
    },
  });

  // ---- batch norm + ReLU/LeakyReLU in training mode: the activation in place on the normalised output ----
  const activationCode = (a: tf.NamedAttrMap): 1 | 2 => {
    if (a.activation === 'relu') return 1;
    if (a.activation === 'leakyrelu') return 2;
    throw new Error(`torch backend: BatchNormActTrain activation '${String(a.activation)}' is not supported`);
  };
  defineKernel(FAST_KERNELS.batchNormActTrain, (b, i, a) => {
    const eps = a.eps as number;
    const act = activationCode(a);
    const alpha = a.alpha as number;
    const x = b.handle(info(i, 'x'));
    const gamma = b.handle(info(i, 'gamma'));
    const beta = b.handle(info(i, 'beta'));
    let z: Native;
    let mean: Native;
    let invstd: Native;
    if (b.addon.batchNormActTrain !== undefined) {
      const [zd, md, sd] = b.addon.batchNormActTrain(x, gamma, beta, eps, act, alpha);
      [z, mean, invstd] = [b.native(zd), b.native(md), b.native(sd)];
    } else {
      // An addon built before the fused call: the same values in two passes.
      const [yd, md, sd] = b.addon.batchNormTrain(x, gamma, beta, eps);
      const y = b.native(yd);
      z = act === 1 ? b.aten('relu', [y]) : b.aten('leaky_relu', [y, alpha]);
      [mean, invstd] = [b.native(md), b.native(sd)];
    }
    return [z, mean, biasedVariance(b, invstd, eps), invstd];
  });
  defineKernel(BACKWARD.batchNormActTrain, (b, i, a) => {
    const dz = info(i, 'dz');
    const z = info(i, 'z');
    // Through the activation from its output: z > 0 exactly where the normalised value is (slope > 0).
    const dy = activationCode(a) === 1 ? b.aten('threshold_backward', [dz, z, 0]) : b.aten('leaky_relu_backward', [dz, z, a.alpha as number, true]);
    return batchNormBackward(b, dy, i, a.eps as number);
  });
  tf.registerGradient({
    kernelName: FAST_KERNELS.batchNormActTrain,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [true, true, false, true],
    gradFunc: (dys, saved, attrs) => {
      // Only z carries a gradient: mean and variance feed the running statistics (see batch-norm.ts).
      const dz = (dys as tf.Tensor[])[0];
      const [x, gamma, z, mean, invstd] = saved;
      const [dx, dgamma, dbeta] = runMulti(BACKWARD.batchNormActTrain, { dz, z, x, gamma, mean, invstd }, attrs);
      release([...(dys as tf.Tensor[]), ...saved]);
      return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
    },
  });

  // ---- LeakyReLU ----
  defineKernel(FAST_KERNELS.leakyRelu, (b, i, a) => b.aten('leaky_relu', [info(i, 'x'), a.alpha as number]));
  defineKernel(BACKWARD.leakyRelu, (b, i, a) =>
    b.aten('leaky_relu_backward', [info(i, 'dy'), info(i, 'x'), a.alpha as number, false]),
  );
  tf.registerGradient({
    kernelName: FAST_KERNELS.leakyRelu,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      return {
        x: () => {
          const dx = tf.engine().runKernel(BACKWARD.leakyRelu, { dy: dy as tf.Tensor, x }, attrs) as tf.Tensor;
          release([dy as tf.Tensor, x]);
          return dx;
        },
      };
    },
  });

  // ---- ReLU (tf.relu: the backend's own kernel; only its gradient is replaced) ----
  defineKernel(BACKWARD.relu, (b, i) => b.aten('threshold_backward', [info(i, 'dy'), info(i, 'x'), 0]));
  // ---- Mean: dy / count broadcast back to x (contiguous, as every kernel returns) ----
  defineKernel(BACKWARD.mean, (b, i, a) => {
    const x = info(i, 'x');
    const scaled = b.aten('div.Scalar', [b.aten('reshape', [info(i, 'dy'), a.expanded as number[]]), a.count as number]);
    return b.aten('contiguous', [b.aten('expand', [scaled, x.shape])]);
  });
  registerGradientOverrides();

  // ---- softmax cross-entropy with integer labels ----
  defineKernel(FAST_KERNELS.softmaxCrossEntropy, (b, i) => {
    const logProbs = b.aten('_log_softmax', [info(i, 'logits'), 1, false]);
    const index = b.aten('unsqueeze', [b.aten('to.dtype', [info(i, 'labels'), SCALAR_TYPE.int64]), 1]);
    const picked = b.aten('squeeze.dim', [b.aten('gather', [logProbs, 1, index]), 1]);
    return [b.aten('neg', [picked]), logProbs];
  });
  defineKernel(BACKWARD.softmaxCrossEntropy, (b, i) =>
    softmaxCeBackward(b, info(i, 'dy'), info(i, 'logProbs'), info(i, 'labels')),
  );
  tf.registerGradient({
    kernelName: FAST_KERNELS.softmaxCrossEntropy,
    inputsToSave: ['labels'],
    outputsToSave: [false, true],
    gradFunc: (dys, saved) => {
      const dy = (dys as tf.Tensor[])[0];
      const [labels, logProbs] = saved;
      return {
        logits: () => tf.engine().runKernel(BACKWARD.softmaxCrossEntropy, { dy, logProbs, labels }) as tf.Tensor,
        labels: () => tf.zeros(labels.shape, 'float32'),
      };
    },
  });

  // ---- cross-entropy against soft targets ----
  defineKernel(FAST_KERNELS.softCrossEntropy, (b, i) => {
    const logProbs = b.aten('_log_softmax', [info(i, 'logits'), 1, false]);
    const loss = b.aten('neg', [b.aten('sum.dim_IntList', [b.aten('mul.Tensor', [info(i, 'targets'), logProbs]), [1], false])]);
    return [loss, logProbs];
  });
  defineKernel(BACKWARD.softCrossEntropy, (b, i) => {
    const targets = info(i, 'targets');
    const logProbs = info(i, 'logProbs');
    const dyCol = b.aten('unsqueeze', [info(i, 'dy'), 1]);
    // d/dz −Σ q·log softmax(z) = softmax(z)·Σq − q; d/dq = −log softmax(z).
    const mass = b.aten('sum.dim_IntList', [targets, [1], true]);
    const dLogits = b.aten('mul.Tensor', [b.aten('sub.Tensor', [b.aten('mul.Tensor', [b.aten('exp', [logProbs]), mass]), targets]), dyCol]);
    const dTargets = b.aten('neg', [b.aten('mul.Tensor', [logProbs, dyCol])]);
    return [dLogits, dTargets];
  });
  tf.registerGradient({
    kernelName: FAST_KERNELS.softCrossEntropy,
    inputsToSave: ['targets'],
    outputsToSave: [false, true],
    gradFunc: (dys, saved) => {
      const dy = (dys as tf.Tensor[])[0];
      const [targets, logProbs] = saved;
      const [dLogits, dTargets] = runMulti(BACKWARD.softCrossEntropy, { dy, targets, logProbs }, {});
      return { logits: () => dLogits, targets: () => dTargets };
    },
  });

  // ---- parameter updates (no gradients) ----
  // One addon call each (native/src/addon.cc runs the ATen ops in the order of
  // torch.optim.SGD's _single_tensor_sgd, 1.13, so results match PyTorch bit for bit).
  defineKernel(FAST_KERNELS.sgdUpdate, (b, i, a) => {
    const [p, v] = b.addon.sgdUpdate(
      b.handle(info(i, 'param')),
      b.handle(info(i, 'grad')),
      b.handle(info(i, 'velocity')),
      a.lr as number,
      a.momentum as number,
      a.weightDecay as number,
      a.nesterov === true,
    );
    return [b.native(p), b.native(v)];
  });
  defineKernel(FAST_KERNELS.emaUpdate, (b, i, a) =>
    b.native(b.addon.emaUpdate(b.handle(info(i, 'target')), b.handle(info(i, 'source')), a.decay as number)),
  );
}
