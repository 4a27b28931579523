import * as tf from '@tensorflow/tfjs-core';
import { SCALAR_TYPE, type Native, type TorchBackend } from './backend.js';
import { convForward, convInfo, defineKernel, input, isSymmetric, padSpatial } from './kernels.js';

/**
 * Less common tfjs kernels on the torch backend: N-d gather/scatter, depthwise and fused convs,
 * bincount, searchsorted, diag, band part, image flip. Our models do not use them; tfjs ops and
 * user code may.
 */

/** A constant int32 native from JS values (kernel-scoped like any intermediate). */
function intConst(b: TorchBackend, values: number[], shape: number[]): Native {
  return b.native(b.addon.fromData(Int32Array.from(values), shape, 1));
}

/** Row-major linear index [N] of N K-d indices into the first K dims of `shape`. */
function linearIndex(b: TorchBackend, indices: tf.TensorInfo, shape: number[]): { linear: Native; count: number } {
  const k = indices.shape[indices.shape.length - 1];
  const strides: number[] = [];
  let acc = 1;
  for (let d = k - 1; d >= 0; d--) {
    strides[d] = acc;
    acc *= shape[d];
  }
  const flat = b.aten('reshape', [indices, [-1, k]]);
  const linear = b.aten('sum.dim_IntList', [b.aten('mul.Tensor', [flat, intConst(b, strides, [k])]), [1], false]);
  return { linear, count: acc };
}

export function registerExtraKernels(): void {
  defineKernel('GatherNd', (b, i) => {
    const params = input(i, 'params');
    const indices = input(i, 'indices');
    const k = indices.shape[indices.shape.length - 1];
    const { linear, count } = linearIndex(b, indices, params.shape);
    const rest = params.shape.slice(k);
    const rows = b.aten('index_select', [b.aten('reshape', [params, [count, ...rest]]), 0, linear]);
    return b.aten('reshape', [rows, [...indices.shape.slice(0, -1), ...rest]]);
  });
  defineKernel('ScatterNd', (b, i, a) => {
    const indices = input(i, 'indices');
    const updates = input(i, 'updates');
    const shape = a.shape as number[];
    const k = indices.shape[indices.shape.length - 1];
    const { linear, count } = linearIndex(b, indices, shape);
    const rest = shape.slice(k);
    const zeros = b.aten('zeros', [[count, ...rest], SCALAR_TYPE[updates.dtype as 'float32']]);
    const summed = b.aten('index_add', [zeros, 0, linear, b.aten('reshape', [updates, [-1, ...rest]])]);
    return b.aten('reshape', [summed, shape]);
  });
  defineKernel('TensorScatterUpdate', (b, i) => {
    const tensor = input(i, 'tensor');
    const indices = input(i, 'indices');
    const k = indices.shape[indices.shape.length - 1];
    const { linear, count } = linearIndex(b, indices, tensor.shape);
    const rest = tensor.shape.slice(k);
    const rows = b.aten('reshape', [tensor, [count, ...rest]]);
    const updated = b.aten('index_copy', [rows, 0, linear, b.aten('reshape', [input(i, 'updates'), [-1, ...rest]])]);
    return b.aten('reshape', [updated, tensor.shape]);
  });

  // ---- depthwise convolution: groups = C, tfjs filter [kh, kw, C, m] is ATen's [C·m, 1, kh, kw] ----
  const depthwiseFilter = (b: TorchBackend, filter: tf.TensorInfo, shape: number[]): Native =>
    b.aten('reshape', [filter, [shape[0], shape[1], 1, shape[2] * shape[3]]]);
  const depthwiseInfo = (xShape: number[], filterShape: number[], a: tf.NamedAttrMap) => convInfo(xShape, filterShape, a, true);
  defineKernel('DepthwiseConv2dNative', (b, i, a) => {
    const x = input(i, 'x');
    const filter = input(i, 'filter');
    const info = depthwiseInfo(x.shape, filter.shape, a);
    return convForward(b, x, depthwiseFilter(b, filter, filter.shape), info, x.shape[3]);
  });
  defineKernel('DepthwiseConv2dNativeBackpropInput', (b, i, a) => {
    const dy = input(i, 'dy');
    const filter = input(i, 'filter');
    const inShape = a.inputShape as number[];
    const info = depthwiseInfo(inShape, filter.shape, a);
    const p = info.padInfo;
    if (!isSymmetric(p)) throw new Error('torch backend: DepthwiseConv2dNativeBackpropInput with asymmetric padding is not implemented');
    const w = depthwiseFilter(b, filter, filter.shape);
    const dil = [info.dilationHeight, info.dilationWidth];
    return b.native(b.addon.conv2dBackpropInput(b.handle(dy), w.id, inShape, [info.strideHeight, info.strideWidth], [p.top, p.left], dil, inShape[3]));
  });
  defineKernel('DepthwiseConv2dNativeBackpropFilter', (b, i, a) => {
    const x = input(i, 'x');
    const shape = a.filterShape as number[];
    const info = depthwiseInfo(x.shape, shape, a);
    const p = info.padInfo;
    const sym = isSymmetric(p);
    const src = sym ? x : padSpatial(b, x, p);
    const dw = b.native(
      b.addon.conv2dBackpropFilter(
        b.handle(src),
        b.handle(input(i, 'dy')),
        [shape[0], shape[1], 1, shape[2] * shape[3]],
        [info.strideHeight, info.strideWidth],
        sym ? [p.top, p.left] : [0, 0],
        [info.dilationHeight, info.dilationWidth],
        x.shape[3],
      ),
    );
    return b.aten('reshape', [dw, shape]);
  });

  // ---- tf.fused.conv2d forward (its gradient is a customGrad of ordinary kernels) ----
  /** The addon's activation code for FusedConv2D's activation, or null when it has none. */
  const fusedActivationCode = (a: tf.NamedAttrMap): 0 | 1 | 2 | null => {
    switch (a.activation as string | undefined) {
      case undefined:
      case 'linear':
        return 0;
      case 'relu':
        return 1;
      case 'leakyrelu':
        return 2;
      default:
        return null;
    }
  };
  defineKernel('FusedConv2D', (b, i, a) => {
    const x = input(i, 'x');
    const filter = input(i, 'filter');
    const info = convInfo(x.shape, filter.shape, a);
    const oneCall = fusedActivationCode(a);
    const outChannels = filter.shape[3];
    if (
      oneCall !== null &&
      b.addon.conv2dBiasAct !== undefined &&
      isSymmetric(info.padInfo) &&
      (i.bias === undefined || (i.bias.shape.length === 1 && i.bias.shape[0] === outChannels))
    ) {
      // The inference pass of a conv with BatchNorm folded in: bias inside the oneDNN call and the
      // activation in place, instead of three passes over the output.
      const p = info.padInfo;
      return b.native(
        b.addon.conv2dBiasAct(
          b.handle(x),
          b.handle(filter),
          i.bias === undefined ? null : b.handle(i.bias),
          [info.strideHeight, info.strideWidth],
          [p.top, p.left],
          [info.dilationHeight, info.dilationWidth],
          1,
          oneCall,
          (a.leakyreluAlpha as number | undefined) ?? 0.2,
        ),
      );
    }
    let y: Native = convForward(b, x, filter, info, 1);
    if (i.bias !== undefined) y = b.aten('add.Tensor', [y, i.bias]);
    switch (a.activation as string | undefined) {
      case undefined:
      case 'linear':
        return y;
      case 'relu':
        return b.aten('relu', [y]);
      case 'relu6':
        return b.aten('hardtanh', [y, 0, 6]);
      case 'elu':
        return b.aten('elu', [y]);
      case 'sigmoid':
        return b.aten('sigmoid', [y]);
      case 'leakyrelu':
        return b.aten('leaky_relu', [y, (a.leakyreluAlpha as number | undefined) ?? 0.2]);
      case 'prelu':
        return b.aten('where.self', [b.aten('lt.Scalar', [y, 0]), b.aten('mul.Tensor', [y, input(i, 'preluActivationWeights')]), y]);
      default:
        throw new Error(`torch backend: FusedConv2D activation '${String(a.activation)}' is not supported`);
    }
  });

  // ---- counting, searching, matrices, images ----
  /** Counts per row of x [rows, n] (or [n]) into [rows, size]: ids shifted by row·size, one index_add. */
  const bincount = (b: TorchBackend, x: tf.TensorInfo, weights: tf.TensorInfo | undefined, size: number, binary: boolean): Native => {
    // As tfjs's bincount kernels: values outside [0, size) are ignored, the output has the
    // weights' dtype, and empty weights count 1 per value.
    const dtype = (weights?.dtype ?? 'int32') as 'float32' | 'int32';
    const rows = x.shape.length === 2 ? x.shape[0] : 1;
    const keep = b.aten('logical_and', [b.aten('ge.Scalar', [x, 0]), b.aten('lt.Scalar', [x, size])]);
    let shifted: Native | tf.TensorInfo = x;
    if (x.shape.length === 2) {
      const offsets = b.aten('mul.Scalar', [b.aten('arange', [rows, SCALAR_TYPE.int32]), size]);
      shifted = b.aten('add.Tensor', [x, b.aten('unsqueeze', [offsets, 1])]);
    }
    const ids = b.aten('masked_select', [shifted, keep]);
    const useWeights = !binary && weights !== undefined && weights.shape.reduce((p, q) => p * q, 1) > 0;
    const values = useWeights ? b.aten('masked_select', [weights, keep]) : b.aten('ones_like', [b.aten('to.dtype', [ids, SCALAR_TYPE[dtype]])]);
    let counts = b.aten('index_add', [b.aten('zeros', [[rows * size], SCALAR_TYPE[dtype]]), 0, ids, values]);
    if (binary) counts = b.aten('to.dtype', [b.aten('gt.Scalar', [counts, 0]), SCALAR_TYPE[dtype]]);
    return x.shape.length === 2 ? b.aten('reshape', [counts, [rows, size]]) : counts;
  };
  defineKernel('Bincount', (b, i, a) => bincount(b, input(i, 'x'), i.weights, a.size as number, false));
  // tfjs's cpu kernel ignores binaryOutput for 1-D input; we follow TensorFlow (and tfjs's 2-D path).
  defineKernel('DenseBincount', (b, i, a) => bincount(b, input(i, 'x'), i.weights, a.size as number, a.binaryOutput === true));
  defineKernel('SearchSorted', (b, i, a) =>
    b.aten('searchsorted.Tensor', [input(i, 'sortedSequence'), input(i, 'values'), true, a.side === 'right']),
  );
  defineKernel('BitwiseAnd', (b, i) => b.aten('bitwise_and.Tensor', [input(i, 'a'), input(i, 'b')]));
  defineKernel('Diag', (b, i) => {
    const x = input(i, 'x');
    const embedded = b.aten('diag_embed', [b.aten('reshape', [x, [-1]])]);
    return b.aten('reshape', [embedded, [...x.shape, ...x.shape]]);
  });
  defineKernel('MatrixBandPart', (b, i) => {
    const x = input(i, 'input');
    const lower = (b.readSync(input(i, 'numLower').dataId) as Int32Array | Float32Array)[0];
    const upper = (b.readSync(input(i, 'numUpper').dataId) as Int32Array | Float32Array)[0];
    const rows = x.shape[x.shape.length - 2];
    const cols = x.shape[x.shape.length - 1];
    // Negative counts keep the whole triangle.
    const lowBand = b.aten('triu', [x, lower < 0 ? -rows : -lower]);
    return b.aten('tril', [lowBand, upper < 0 ? cols : upper]);
  });
  defineKernel('FlipLeftRight', (b, i) => b.aten('flip', [input(i, 'image'), [2]]));
}
