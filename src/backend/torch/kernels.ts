import * as tf from '@tensorflow/tfjs-core';
import { SCALAR_TYPE, type Arg, type Native, type TorchBackend } from './backend.js';
import { PROFILING, PROFILING_SHAPES, recordKernel } from './profile.js';

/**
 * The tfjs kernel table of the torch backend: each tfjs kernel maps to one or a few ATen ops.
 * Tensors are stored in tfjs's logical (NHWC) shape; spatial ops permute to NCHW views, which
 * are channels_last in memory, so oneDNN runs its fast path without copies.
 */

type Inputs = tf.NamedTensorInfoMap;
type Attrs = tf.NamedAttrMap;
type Result = Native | tf.TensorInfo | readonly (Native | tf.TensorInfo)[];
export type KernelImpl = (b: TorchBackend, inputs: Inputs, attrs: Attrs) => Result;

export const BACKEND_NAME = 'torch';

/** Registers `impl` as tfjs kernel `name` on the torch backend. */
export function defineKernel(name: string, impl: KernelImpl): void {
  tf.registerKernel({
    kernelName: name,
    backendName: BACKEND_NAME,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const b = backend as TorchBackend;
      if (!PROFILING) return b.runKernel(() => impl(b, inputs, attrs ?? {}));
      const start = performance.now();
      const out = b.runKernel(() => impl(b, inputs, attrs ?? {}));
      const key = PROFILING_SHAPES ? `${name} ${Object.values(inputs).map((t) => `[${t?.shape.join(',') ?? ''}]`).join(' ')}` : name;
      recordKernel(key, performance.now() - start);
      return out;
    },
  });
}

/** NHWC tensor -> NCHW view (channels_last memory, no copy). */
export function nchw(b: TorchBackend, x: Arg): Native {
  return b.aten('permute', [x, [0, 3, 1, 2]]);
}

/** NCHW result -> NHWC, contiguous (a no-op view for channels_last results). */
export function nhwc(b: TorchBackend, y: Arg): Native {
  return b.aten('contiguous', [b.aten('permute', [y, [0, 2, 3, 1]])]);
}

export function axesOf(axis: unknown, shape: number[]): number[] {
  return tf.util.parseAxisParam(axis as number | number[], shape);
}

export const input = (inputs: Inputs, name: string): tf.TensorInfo => {
  const t = inputs[name];
  if (t === undefined) throw new Error(`torch backend: missing input '${name}'`);
  return t;
};

function unary(kernel: string, op: string): void {
  defineKernel(kernel, (b, i) => b.aten(op, [input(i, 'x')]));
}

function binary(kernel: string, op: string): void {
  defineKernel(kernel, (b, i) => b.aten(op, [input(i, 'a'), input(i, 'b')]));
}

/** Kernels whose float-only ATen ops need int inputs cast first. */
function asFloat(b: TorchBackend, x: tf.TensorInfo): Arg {
  return x.dtype === 'float32' ? x : b.aten('to.dtype', [x, SCALAR_TYPE.float32]);
}

// ---- convolution geometry ----

interface Pads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Zero-pads H and W of an NHWC tensor (only where the padding is asymmetric). */
export function padSpatial(b: TorchBackend, x: Arg, p: Pads): Native {
  return b.aten('constant_pad_nd', [x, [0, 0, p.left, p.right, p.top, p.bottom], 0]);
}

export function isSymmetric(p: Pads): boolean {
  return p.top === p.bottom && p.left === p.right;
}

export function convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: Attrs,
  depthwise = false,
): tf.backend_util.Conv2DInfo {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`torch backend: Conv2D dataFormat ${String(attrs.dataFormat)} is not supported (NHWC is)`);
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number],
    (attrs.dilations ?? 1) as [number, number],
    attrs.pad as 'valid',
    attrs.dimRoundingMode as 'floor' | undefined,
    depthwise,
    'channelsLast',
  );
}

/**
 * NHWC convolution for a computed tfjs geometry: ATen pads symmetric padding itself; TF's
 * asymmetric 'same' padding is applied explicitly first. `filter` is [kh, kw, Cin/groups, Cout].
 */
export function convForward(b: TorchBackend, x: tf.TensorInfo, filter: tf.TensorInfo | Native, info: tf.backend_util.Conv2DInfo, groups: number): Native {
  const p = info.padInfo;
  const sym = isSymmetric(p);
  const src = sym ? x : padSpatial(b, x, p);
  const y = b.native(
    b.addon.conv2d(
      b.handle(src),
      b.handle(filter),
      [info.strideHeight, info.strideWidth],
      sym ? [p.top, p.left] : [0, 0],
      [info.dilationHeight, info.dilationWidth],
      groups,
    ),
  );
  checkShape('Conv2D', y.shape, info.outShape);
  return y;
}

function checkShape(kernel: string, got: number[], want: number[]): void {
  if (got.length !== want.length || got.some((v, k) => v !== want[k])) {
    throw new Error(`torch backend: ${kernel} geometry not supported (ATen gives [${got}], tfjs wants [${want}])`);
  }
}

// ---- pooling geometry: ATen pools take symmetric padding up to half the window; other
// paddings (TF 'same' pads one more at the bottom/right) are applied explicitly ----

interface PoolGeometry {
  kernel: number[];
  stride: number[];
  pads: Pads;
  /** ATen can pad itself (symmetric, at most half the window). */
  inKernel: boolean;
}

function poolGeometry(xShape: number[], attrs: Attrs): PoolGeometry {
  const info = tf.backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize as [number, number],
    attrs.strides as [number, number],
    1,
    attrs.pad as 'valid',
    attrs.dimRoundingMode as 'floor' | undefined,
  );
  const p = info.padInfo;
  const kernel = [info.filterHeight, info.filterWidth];
  return {
    kernel,
    stride: [info.strideHeight, info.strideWidth],
    pads: { top: p.top, bottom: p.bottom, left: p.left, right: p.right },
    inKernel: isSymmetric(p) && 2 * p.top <= kernel[0] && 2 * p.left <= kernel[1],
  };
}

/** A 1x1 window without padding: pooling only subsamples. */
function isSubsample(g: PoolGeometry): boolean {
  const p = g.pads;
  return g.kernel[0] === 1 && g.kernel[1] === 1 && p.top + p.bottom + p.left + p.right === 0;
}

/** x[:, ::sh, ::sw, :] of an NHWC tensor, a strided view. */
function subsample(b: TorchBackend, x: Arg, stride: number[]): Native {
  const rows = b.aten('slice.Tensor', [x, 1, 0, null, stride[0]]);
  return b.aten('slice.Tensor', [rows, 2, 0, null, stride[1]]);
}

/** NCHW view of x, explicitly padded with `value` unless ATen pads (then `padding` is ATen's). */
function poolInput(b: TorchBackend, x: tf.TensorInfo, g: PoolGeometry, value: number): { xc: Native; padding: number[] } {
  const xc = nchw(b, x);
  if (g.inKernel) return { xc, padding: [g.pads.top, g.pads.left] };
  const p = g.pads;
  return { xc: b.aten('constant_pad_nd', [xc, [p.left, p.right, p.top, p.bottom], value]), padding: [0, 0] };
}

/** Removes explicit pool padding from an NCHW gradient and returns NHWC. */
function unpadPoolGrad(b: TorchBackend, dx: Native, x: tf.TensorInfo, g: PoolGeometry): Native {
  if (g.inKernel) return nhwc(b, dx);
  const rows = b.aten('slice.Tensor', [dx, 2, g.pads.top, g.pads.top + x.shape[1], 1]);
  return nhwc(b, b.aten('slice.Tensor', [rows, 3, g.pads.left, g.pads.left + x.shape[2], 1]));
}

/** Number of real (unpadded) inputs under each window, [1, 1, H', W'], for explicit-pad averages. */
function poolCounts(b: TorchBackend, x: tf.TensorInfo, g: PoolGeometry): Native {
  const p = g.pads;
  const ones = b.aten('ones', [[1, 1, x.shape[1], x.shape[2]], SCALAR_TYPE.float32]);
  const padded = b.aten('constant_pad_nd', [ones, [p.left, p.right, p.top, p.bottom], 0]);
  return b.aten('avg_pool2d', [padded, g.kernel, g.stride, [0, 0], false, true]);
}

// ---- strided slice / mirror pad helpers ----

/** Elements begin + k·stride, k < count, along `dim` (negative strides flip first). */
function stridedAlong(b: TorchBackend, x: Native | tf.TensorInfo, dim: number, size: number, begin: number, stride: number, count: number): Native | tf.TensorInfo {
  if (count === 0) return b.aten('slice.Tensor', [x, dim, 0, 0, 1]);
  if (stride > 0) {
    if (begin === 0 && stride === 1 && count === size) return x;
    return b.aten('slice.Tensor', [x, dim, begin, begin + (count - 1) * stride + 1, stride]);
  }
  const flipped = b.aten('flip', [x, [dim]]);
  const start = size - 1 - begin;
  return b.aten('slice.Tensor', [flipped, dim, start, start + (count - 1) * -stride + 1, -stride]);
}

export function registerKernels(): void {
  // ---- elementwise unary ----
  const unaries: Array<[string, string]> = [
    ['Abs', 'abs'],
    ['Acos', 'acos'],
    ['Acosh', 'acosh'],
    ['Asin', 'asin'],
    ['Asinh', 'asinh'],
    ['Atan', 'atan'],
    ['Atanh', 'atanh'],
    ['Ceil', 'ceil'],
    ['Cos', 'cos'],
    ['Cosh', 'cosh'],
    ['Elu', 'elu'],
    ['Erf', 'erf'],
    ['Exp', 'exp'],
    ['Expm1', 'expm1'],
    ['Floor', 'floor'],
    ['IsFinite', 'isfinite'],
    ['IsInf', 'isinf'],
    ['IsNan', 'isnan'],
    ['Log', 'log'],
    ['Log1p', 'log1p'],
    ['LogicalNot', 'logical_not'],
    ['Neg', 'neg'],
    ['Reciprocal', 'reciprocal'],
    ['Relu', 'relu'],
    ['Round', 'round'],
    ['Rsqrt', 'rsqrt'],
    ['Selu', 'selu'],
    ['Sigmoid', 'sigmoid'],
    ['Sign', 'sign'],
    ['Sin', 'sin'],
    ['Sinh', 'sinh'],
    ['Softplus', 'softplus'],
    ['Sqrt', 'sqrt'],
    ['Square', 'square'],
    ['Tan', 'tan'],
    ['Tanh', 'tanh'],
  ];
  for (const [k, op] of unaries) unary(k, op);
  defineKernel('Relu6', (b, i) => b.aten('hardtanh', [input(i, 'x'), 0, 6]));
  defineKernel('LeakyRelu', (b, i, a) => b.aten('leaky_relu', [input(i, 'x'), a.alpha as number]));
  defineKernel('ClipByValue', (b, i, a) => b.aten('clamp', [input(i, 'x'), a.clipValueMin as number, a.clipValueMax as number]));
  defineKernel('Step', (b, i, a) => {
    const x = input(i, 'x');
    // tfjs: x > 0 ? 1 : alpha, NaN stays NaN.
    const stepped = b.aten('where.ScalarOther', [b.aten('gt.Scalar', [x, 0]), b.aten('ones_like', [x]), a.alpha as number]);
    return b.aten('where.self', [b.aten('isnan', [x]), x, stepped]);
  });
  defineKernel('EluGrad', (b, i) => b.aten('elu_backward', [input(i, 'dy'), 1, 1, 1, true, input(i, 'y')]));
  defineKernel('Prelu', (b, i) => {
    const x = input(i, 'x');
    return b.aten('where.self', [b.aten('lt.Scalar', [x, 0]), b.aten('mul.Tensor', [x, input(i, 'alpha')]), x]);
  });
  defineKernel('Cast', (b, i, a) => {
    const x = input(i, 'x');
    const dtype = a.dtype as 'float32' | 'int32' | 'bool';
    if (!(dtype in SCALAR_TYPE)) throw new Error(`torch backend: Cast to ${dtype} is not supported`);
    if (dtype === x.dtype) return b.alias(x);
    return b.aten('to.dtype', [x, SCALAR_TYPE[dtype]]);
  });
  defineKernel('Identity', (b, i) => b.alias(input(i, 'x')));
  defineKernel('ZerosLike', (b, i) => b.aten('zeros_like', [input(i, 'x')]));
  defineKernel('OnesLike', (b, i) => b.aten('ones_like', [input(i, 'x')]));

  // ---- elementwise binary (tfjs has already matched dtypes; ATen broadcasts like numpy) ----
  const binaries: Array<[string, string]> = [
    ['Add', 'add.Tensor'],
    ['Sub', 'sub.Tensor'],
    ['Multiply', 'mul.Tensor'],
    ['RealDiv', 'div.Tensor'],
    ['Maximum', 'maximum'],
    ['Minimum', 'minimum'],
    ['Pow', 'pow.Tensor_Tensor'],
    ['Mod', 'remainder.Tensor'],
    ['Atan2', 'atan2'],
    ['Equal', 'eq.Tensor'],
    ['NotEqual', 'ne.Tensor'],
    ['Greater', 'gt.Tensor'],
    ['GreaterEqual', 'ge.Tensor'],
    ['Less', 'lt.Tensor'],
    ['LessEqual', 'le.Tensor'],
    ['LogicalAnd', 'logical_and'],
    ['LogicalOr', 'logical_or'],
    ['LogicalXor', 'logical_xor'],
  ];
  for (const [k, op] of binaries) binary(k, op);
  // tfjs's FloorDiv returns int32 even for float inputs.
  defineKernel('FloorDiv', (b, i) => {
    const q = b.aten('div.Tensor_mode', [input(i, 'a'), input(i, 'b'), 'floor']);
    return q.dtype === 'int32' ? q : b.aten('to.dtype', [q, SCALAR_TYPE.int32]);
  });
  defineKernel('SquaredDifference', (b, i) => b.aten('square', [b.aten('sub.Tensor', [input(i, 'a'), input(i, 'b')])]));
  defineKernel('AddN', (b, i) => {
    const xs = Object.values(i as Record<string, tf.TensorInfo>);
    if (xs.length === 1) return b.alias(xs[0]);
    let acc = b.aten('add.Tensor', [xs[0], xs[1]]);
    for (let k = 2; k < xs.length; k++) acc = b.aten('add.Tensor', [acc, xs[k]]);
    return acc;
  });
  defineKernel('Select', (b, i) => b.aten('where.self', [input(i, 'condition'), input(i, 't'), input(i, 'e')]));

  // ---- reductions ----
  const reduce = (kernel: string, axisAttr: string, body: (b: TorchBackend, x: tf.TensorInfo, axes: number[], keep: boolean) => Result): void =>
    defineKernel(kernel, (b, i, a) => {
      const x = input(i, 'x');
      const axes = axesOf(a[axisAttr], x.shape);
      const keep = a.keepDims === true;
      if (axes.length === 0) return b.alias(x);
      return body(b, x, axes, keep);
    });
  /** One ATen call per axis, innermost first so earlier axis numbers stay valid. */
  const perAxis = (op: string) => (b: TorchBackend, x: tf.TensorInfo, axes: number[], keep: boolean): Native | tf.TensorInfo => {
    let cur: Native | tf.TensorInfo = x;
    for (const axis of [...axes].sort((p, q) => q - p)) cur = b.aten(op, [cur, axis, keep]);
    return cur;
  };
  reduce('Sum', 'axis', (b, x, axes, keep) => b.aten('sum.dim_IntList', [x, axes, keep]));
  reduce('Mean', 'axis', (b, x, axes, keep) => b.aten('mean.dim', [asFloat(b, x), axes, keep]));
  reduce('Max', 'reductionIndices', (b, x, axes, keep) => b.aten('amax', [x, axes, keep]));
  reduce('Min', 'axis', (b, x, axes, keep) => b.aten('amin', [x, axes, keep]));
  reduce('Prod', 'axis', perAxis('prod.dim_int'));
  reduce('All', 'axis', perAxis('all.dim'));
  reduce('Any', 'axis', perAxis('any.dim'));
  defineKernel('ArgMax', (b, i, a) => {
    const x = input(i, 'x');
    return b.aten('argmax', [x, axesOf(a.axis, x.shape)[0], false]);
  });
  defineKernel('ArgMin', (b, i, a) => {
    const x = input(i, 'x');
    return b.aten('argmin', [x, axesOf(a.axis, x.shape)[0], false]);
  });
  defineKernel('Softmax', (b, i, a) => {
    const x = input(i, 'logits');
    return b.aten('_softmax', [x, axesOf(a.dim, x.shape)[0], false]);
  });
  defineKernel('LogSoftmax', (b, i, a) => {
    const x = input(i, 'logits');
    return b.aten('_log_softmax', [x, axesOf(a.axis, x.shape)[0], false]);
  });
  defineKernel('Cumsum', (b, i, a) => {
    const x = input(i, 'x');
    const axis = axesOf(a.axis, x.shape)[0];
    const src: Native | tf.TensorInfo = a.reverse === true ? b.aten('flip', [x, [axis]]) : x;
    let c = b.aten('cumsum', [src, axis]);
    if (c.dtype !== x.dtype) c = b.aten('to.dtype', [c, SCALAR_TYPE[x.dtype as 'int32']]);
    if (a.exclusive === true) c = b.aten('sub.Tensor', [c, src]);
    return a.reverse === true ? b.aten('flip', [c, [axis]]) : c;
  });

  // ---- shape and data movement ----
  defineKernel('Reshape', (b, i, a) => {
    const x = input(i, 'x');
    const shape = tf.util.inferFromImplicitShape(a.shape as number[], tf.util.sizeFromShape(x.shape));
    return b.aten('reshape', [x, shape]);
  });
  defineKernel('ExpandDims', (b, i, a) => b.aten('unsqueeze', [input(i, 'input'), a.dim as number]));
  defineKernel('Transpose', (b, i, a) => b.aten('permute', [input(i, 'x'), a.perm as number[]]));
  defineKernel('BroadcastTo', (b, i, a) => b.aten('expand', [input(i, 'x'), a.shape as number[]]));
  defineKernel('Tile', (b, i, a) => b.aten('repeat', [input(i, 'x'), a.reps as number[]]));
  defineKernel('Reverse', (b, i, a) => {
    const x = input(i, 'x');
    return b.aten('flip', [x, axesOf(a.dims, x.shape)]);
  });
  defineKernel('Slice', (b, i, a) => {
    const x = input(i, 'x');
    const [begin, size] = tf.slice_util.parseSliceParams(x, a.begin as number[], a.size as number[]);
    let cur: Native | tf.TensorInfo = x;
    for (let d = 0; d < x.shape.length; d++) {
      if (begin[d] !== 0 || size[d] !== x.shape[d]) cur = b.aten('slice.Tensor', [cur, d, begin[d], begin[d] + size[d], 1]);
    }
    return cur === x ? b.alias(x) : cur;
  });
  defineKernel('StridedSlice', (b, i, a) => {
    const x = input(i, 'x');
    const info = tf.slice_util.sliceInfo(
      x.shape,
      a.begin as number[],
      a.end as number[],
      a.strides as number[],
      a.beginMask as number,
      a.endMask as number,
      a.ellipsisMask as number,
      a.newAxisMask as number,
      a.shrinkAxisMask as number,
    );
    let cur: Native | tf.TensorInfo = x;
    for (let d = 0; d < x.shape.length; d++) {
      cur = stridedAlong(b, cur, d, x.shape[d], info.begin[d], info.strides[d], info.finalShapeSparse[d]);
    }
    return b.aten('reshape', [cur, info.finalShape]);
  });
  defineKernel('Concat', (b, i, a) => {
    const xs = Object.values(i as Record<string, tf.TensorInfo>);
    if (xs.length === 1) return b.alias(xs[0]);
    return b.aten('cat', [xs, axesOf(a.axis, xs[0].shape)[0]]);
  });
  defineKernel('Pack', (b, i, a) => {
    const xs = Object.values(i as Record<string, tf.TensorInfo>);
    const axis = a.axis as number;
    return b.aten('stack', [xs, axis < 0 ? axis + xs[0].shape.length + 1 : axis]);
  });
  defineKernel('Unpack', (b, i, a) => b.atenMulti('unbind.int', [input(i, 'value'), a.axis as number]));
  defineKernel('SplitV', (b, i, a) => {
    const x = input(i, 'x');
    const axis = axesOf(a.axis, x.shape)[0];
    const n = x.shape[axis];
    const spec = a.numOrSizeSplits as number | number[];
    let sizes: number[];
    if (typeof spec === 'number') sizes = new Array<number>(spec).fill(n / spec);
    else {
      const known = spec.filter((s) => s !== -1).reduce((p, q) => p + q, 0);
      sizes = spec.map((s) => (s === -1 ? n - known : s));
    }
    return b.atenMulti('split_with_sizes', [x, sizes, axis]);
  });
  defineKernel('PadV2', (b, i, a) => {
    const x = input(i, 'x');
    const pads = (a.paddings as Array<[number, number]>).slice().reverse().flat();
    return b.aten('constant_pad_nd', [x, pads, a.constantValue as number]);
  });
  defineKernel('MirrorPad', (b, i, a) => {
    const x = input(i, 'x');
    const reflect = a.mode === 'reflect';
    let cur: Native | tf.TensorInfo = x;
    (a.paddings as Array<[number, number]>).forEach(([lo, hi], d) => {
      if (lo === 0 && hi === 0) return;
      const n = x.shape[d];
      const off = reflect ? 1 : 0;
      const parts: Arg[] = [];
      if (lo > 0) parts.push(b.aten('flip', [b.aten('slice.Tensor', [cur, d, off, off + lo, 1]), [d]]));
      parts.push(cur);
      if (hi > 0) parts.push(b.aten('flip', [b.aten('slice.Tensor', [cur, d, n - off - hi, n - off, 1]), [d]]));
      cur = b.aten('cat', [parts, d]);
    });
    return cur === x ? b.alias(x) : cur;
  });
  defineKernel('Fill', (b, _i, a) => {
    const dtype = (a.dtype ?? 'float32') as 'float32' | 'int32' | 'bool';
    return b.aten('full', [a.shape as number[], a.value as number, SCALAR_TYPE[dtype]]);
  });
  defineKernel('Range', (b, _i, a) => {
    const start = a.start as number;
    const stop = a.stop as number;
    let step = a.step as number;
    const dtype = (a.dtype ?? 'float32') as 'float32' | 'int32';
    // tfjs's rules (rangeImpl): empty on a sign mismatch; step 1 counts down when stop < start.
    const empty = start === stop || (start < stop && step < 0) || (stop < start && step > 1);
    const n = empty ? 0 : Math.abs(Math.ceil((stop - start) / step));
    if (stop < start && step === 1) step = -1;
    if (n === 0) return b.aten('full', [[0], 0, SCALAR_TYPE[dtype]]);
    // start + k·step for k < n, as tfjs computes it (not ATen's end-exclusive float loop).
    const k = b.aten('arange', [n, SCALAR_TYPE.float32]);
    const v = b.aten('add.Scalar', [b.aten('mul.Scalar', [k, step]), start]);
    return dtype === 'float32' ? v : b.aten('to.dtype', [v, SCALAR_TYPE.int32]);
  });
  defineKernel('LinSpace', (b, _i, a) => b.aten('linspace', [a.start as number, a.stop as number, a.num as number, SCALAR_TYPE.float32]));
  defineKernel('OneHot', (b, i, a) => {
    const indices = input(i, 'indices');
    const depth = a.depth as number;
    const dtype = (a.dtype ?? 'int32') as 'float32' | 'int32';
    // Comparison, not ATen's one_hot: out-of-range indices give an all-off row, as in tfjs.
    const hot = b.aten('eq.Tensor', [b.aten('unsqueeze', [indices, -1]), b.aten('arange', [depth, SCALAR_TYPE.int32])]);
    const on = a.onValue as number;
    const off = a.offValue as number;
    if (on === 1 && off === 0) return b.aten('to.dtype', [hot, SCALAR_TYPE[dtype]]);
    const full = b.aten('full', [[1], on, SCALAR_TYPE[dtype]]);
    return b.aten('where.ScalarOther', [hot, full, off]);
  });
  defineKernel('GatherV2', (b, i, a) => {
    const x = input(i, 'x');
    const indices = input(i, 'indices');
    const axis = axesOf(a.axis, x.shape)[0];
    if (((a.batchDims as number | undefined) ?? 0) !== 0) throw new Error('torch backend: GatherV2 with batchDims > 0 is not implemented');
    const flat = b.aten('reshape', [indices, [-1]]);
    const picked = b.aten('index_select', [x, axis, flat]);
    return b.aten('reshape', [picked, [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)]]);
  });
  defineKernel('UnsortedSegmentSum', (b, i, a) => {
    const x = input(i, 'x');
    const ids = input(i, 'segmentIds');
    const rest = x.shape.slice(ids.shape.length);
    const flatIds = b.aten('reshape', [ids, [-1]]);
    const flatX = b.aten('reshape', [x, [-1, ...rest]]);
    const zeros = b.aten('zeros', [[a.numSegments as number, ...rest], SCALAR_TYPE[x.dtype as 'float32']]);
    return b.aten('index_add', [zeros, 0, flatIds, flatX]);
  });
  defineKernel('TopK', (b, i, a) => b.atenMulti('topk', [input(i, 'x'), a.k as number, -1, true, a.sorted !== false]));
  defineKernel('Einsum', (b, i, a) => b.aten('einsum', [a.equation as string, Object.values(i as Record<string, tf.TensorInfo>)]));

  // ---- matmul ----
  defineKernel('BatchMatMul', (b, i, a) => {
    let x: Arg = input(i, 'a');
    let y: Arg = input(i, 'b');
    if (a.transposeA === true) x = b.aten('transpose.int', [x, -1, -2]);
    if (a.transposeB === true) y = b.aten('transpose.int', [y, -1, -2]);
    return b.aten('matmul', [x, y]);
  });

  // ---- convolution (NHWC in tfjs, channels_last NCHW views for ATen) ----
  defineKernel('Conv2D', (b, i, a) => {
    const x = input(i, 'x');
    const filter = input(i, 'filter');
    return convForward(b, x, filter, convInfo(x.shape, filter.shape, a), 1);
  });
  defineKernel('Conv2DBackpropInput', (b, i, a) => {
    const dy = input(i, 'dy');
    const filter = input(i, 'filter');
    const inShape = a.inputShape as number[];
    const info = convInfo(inShape, filter.shape, a);
    const p = info.padInfo;
    const stride = [info.strideHeight, info.strideWidth];
    if (isSymmetric(p)) {
      return b.native(b.addon.conv2dBackpropInput(b.handle(dy), b.handle(filter), inShape, stride, [p.top, p.left], [1, 1], 1));
    }
    const padded = [inShape[0], inShape[1] + p.top + p.bottom, inShape[2] + p.left + p.right, inShape[3]];
    const dxp = b.native(b.addon.conv2dBackpropInput(b.handle(dy), b.handle(filter), padded, stride, [0, 0], [1, 1], 1));
    const rows = b.aten('slice.Tensor', [dxp, 1, p.top, p.top + inShape[1], 1]);
    return b.aten('contiguous', [b.aten('slice.Tensor', [rows, 2, p.left, p.left + inShape[2], 1])]);
  });
  defineKernel('Conv2DBackpropFilter', (b, i, a) => {
    const x = input(i, 'x');
    const dy = input(i, 'dy');
    const filterShape = a.filterShape as number[];
    const info = convInfo(x.shape, filterShape, a);
    const p = info.padInfo;
    const sym = isSymmetric(p);
    const src = sym ? x : padSpatial(b, x, p);
    return b.native(
      b.addon.conv2dBackpropFilter(
        b.handle(src),
        b.handle(dy),
        filterShape,
        [info.strideHeight, info.strideWidth],
        sym ? [p.top, p.left] : [0, 0],
        [1, 1],
        1,
      ),
    );
  });

  // ---- pooling ----
  // The forward keeps ATen's argmax indices with its output, so MaxPoolGrad (which tfjs hands the
  // forward's output) need not run the pool again.
  defineKernel('MaxPool', (b, i, a) => {
    const x = input(i, 'x');
    const g = poolGeometry(x.shape, a);
    const { xc, padding } = poolInput(b, x, g, -Infinity);
    const [y, indices] = b.atenMulti('max_pool2d_with_indices', [xc, g.kernel, g.stride, padding, [1, 1], false]);
    const out = b.output(nhwc(b, y));
    b.attach(out, 'maxPoolIndices', indices);
    return out;
  });
  defineKernel('MaxPoolGrad', (b, i, a) => {
    const x = input(i, 'input');
    const g = poolGeometry(x.shape, a);
    const { xc, padding } = poolInput(b, x, g, -Infinity);
    const kept = b.attachment(input(i, 'output'), 'maxPoolIndices');
    const indices = kept ?? b.atenMulti('max_pool2d_with_indices', [xc, g.kernel, g.stride, padding, [1, 1], false])[1];
    const args = [nchw(b, input(i, 'dy')), xc, g.kernel, g.stride, padding, [1, 1], false, indices];
    return unpadPoolGrad(b, b.aten('max_pool2d_with_indices_backward', args), x, g);
  });
  // tfjs averages over the real inputs of a window (ATen's count_include_pad=False).
  defineKernel('AvgPool', (b, i, a) => {
    const x = input(i, 'x');
    const g = poolGeometry(x.shape, a);
    // A 1x1 window is x[:, ::sh, ::sw, :] (ResNet-32's option-A shortcut): a strided view, as
    // PyTorch slices, instead of a pooling pass (x / 1 is x exactly).
    if (isSubsample(g)) return subsample(b, x, g.stride);
    const { xc, padding } = poolInput(b, x, g, 0);
    if (g.inKernel) return nhwc(b, b.aten('avg_pool2d', [xc, g.kernel, g.stride, padding, false, false]));
    const sums = b.aten('avg_pool2d', [xc, g.kernel, g.stride, padding, false, true]);
    return nhwc(b, b.aten('div.Tensor', [sums, poolCounts(b, x, g)]));
  });
  defineKernel('AvgPoolGrad', (b, i, a) => {
    const x = input(i, 'input');
    const g = poolGeometry(x.shape, a);
    if (isSubsample(g)) {
      // Zeros with dy written at the sampled positions (what PyTorch's slice backward does).
      const dx = b.aten('zeros', [x.shape, SCALAR_TYPE.float32]);
      b.aten('copy_', [subsample(b, dx, g.stride), input(i, 'dy')]);
      return dx;
    }
    const { xc, padding } = poolInput(b, x, g, 0);
    const dy = nchw(b, input(i, 'dy'));
    if (g.inKernel) {
      return nhwc(b, b.aten('avg_pool2d_backward', [dy, xc, g.kernel, g.stride, padding, false, false, null]));
    }
    const scaled = b.aten('div.Tensor', [dy, poolCounts(b, x, g)]);
    return unpadPoolGrad(b, b.aten('avg_pool2d_backward', [scaled, xc, g.kernel, g.stride, padding, false, true, null]), x, g);
  });

  // ---- batch norm with given statistics (tf.batchNorm; the training path is fused.ts) ----
  defineKernel('FusedBatchNorm', (b, i, a) => {
    const x = input(i, 'x');
    const mean = input(i, 'mean');
    const variance = input(i, 'variance');
    const scale = i.scale;
    const offset = i.offset;
    const eps = (a.varianceEpsilon as number | undefined) ?? 0.001;
    const c = x.shape[x.shape.length - 1];
    const perChannel = (t: tf.TensorInfo | undefined): boolean => t === undefined || (t.shape.length === 1 && t.shape[0] === c);
    if ((x.shape.length === 4 || x.shape.length === 2) && [mean, variance, scale, offset].every(perChannel)) {
      return b.native(
        b.addon.batchNormEval(
          b.handle(x),
          b.handle(mean),
          b.handle(variance),
          scale === undefined ? null : b.handle(scale),
          offset === undefined ? null : b.handle(offset),
          eps,
        ),
      );
    }
    // General broadcasting statistics: (x − mean) · rsqrt(var + eps) · scale + offset.
    let y = b.aten('mul.Tensor', [b.aten('sub.Tensor', [x, mean]), b.aten('rsqrt', [b.aten('add.Scalar', [variance, eps])])]);
    if (scale !== undefined) y = b.aten('mul.Tensor', [y, scale]);
    if (offset !== undefined) y = b.aten('add.Tensor', [y, offset]);
    return y;
  });
}
