import * as tf from '@tensorflow/tfjs-core';
import type { AtenArg, NativeDesc, TorchAddon } from './addon.js';
import { PROFILING, recordAten } from './profile.js';

type DataId = object;
type NumericDtype = 'float32' | 'int32' | 'bool';
/** Dtypes of natives: tfjs's three, plus int64 for intermediate ATen indices. */
export type NativeDtype = NumericDtype | 'int64';

/** What the backend stores per tfjs dataId: the native tensor and tfjs's reference count. */
interface NativeData {
  id: number;
  readonly shape: readonly number[];
  readonly dtype: NumericDtype;
  refCount: number;
  /** Natives freed with this one (e.g. max-pool indices kept for the gradient). */
  extra?: number[];
}

/** Indexed by the addon's dtype codes. */
const DTYPES: readonly NativeDtype[] = ['float32', 'int32', 'bool', 'int64'];

/** ATen ScalarType codes (c10/core/ScalarType.h) for `dtype=` arguments. */
export const SCALAR_TYPE: Readonly<Record<NumericDtype | 'int64', number>> = {
  int32: 3,
  int64: 4,
  float32: 6,
  bool: 11,
};

/**
 * A native tensor created while a kernel runs. Unless the kernel returns it (then it becomes a
 * tfjs dataId), it is freed when the kernel ends: kernels never free intermediates by hand.
 */
export class Native {
  kept = false;
  constructor(
    readonly id: number,
    readonly dtype: NativeDtype,
    readonly shape: number[],
  ) {}
}

/** A kernel argument: tfjs inputs, intermediates, or plain ATen values. */
export type Arg = AtenArg | tf.TensorInfo | Native | readonly Arg[];

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isTensorInfo(a: unknown): a is tf.TensorInfo {
  return typeof a === 'object' && a !== null && 'dataId' in a;
}

/**
 * The `torch` tfjs backend: tensors live in libtorch (one native tensor per dataId, stored in
 * tfjs's logical NHWC shape, row-major or a strided view of it) and kernels are ATen ops.
 * Kernels are registered separately (kernels.ts, fused.ts) for backendName 'torch'.
 */
export class TorchBackend extends tf.KernelBackend {
  private readonly data: tf.DataStorage<NativeData>;
  private readonly opIndex = new Map<string, number>();
  /** Natives created by the running kernel(s); freed at kernel end unless kept. */
  private readonly pending: Native[] = [];

  constructor(readonly addon: TorchAddon) {
    super();
    this.data = new tf.DataStorage(this, tf.engine());
  }

  // ---- storage ----

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): DataId {
    const dataId = {};
    this.data.set(dataId, this.upload(values, shape, dtype, 1));
    return dataId;
  }

  override move(
    dataId: DataId,
    values: tf.backend_util.BackendValues,
    shape: number[],
    dtype: tf.DataType,
    refCount: number,
  ): void {
    this.data.set(dataId, this.upload(values, shape, dtype, refCount));
  }

  /** Makes a TensorInfo; zeros when no values are given. */
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo {
    const size = shape.reduce((a, b) => a * b, 1);
    const vals = values ?? tf.util.makeZerosTypedArray(size, dtype === 'string' ? 'float32' : dtype);
    return { dataId: this.write(vals, shape, dtype), shape, dtype };
  }

  private upload(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): NativeData {
    const code = DTYPES.indexOf(dtype as NumericDtype);
    if (code < 0 || code > 2) throw new Error(`torch backend: dtype '${dtype}' is not supported (float32, int32 and bool are)`);
    let typed: Float32Array | Int32Array | Uint8Array;
    if (dtype === 'float32') typed = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    else if (dtype === 'int32') typed = values instanceof Int32Array ? values : Int32Array.from(values as ArrayLike<number>);
    else typed = values instanceof Uint8Array ? values : Uint8Array.from(values as ArrayLike<number>);
    const desc = this.addon.fromData(typed, shape, code);
    return { id: desc[0], shape: shape.slice(), dtype: dtype as NumericDtype, refCount };
  }

  override readSync(dataId: DataId): tf.backend_util.BackendValues {
    return this.addon.toData(this.data.get(dataId).id);
  }

  override async read(dataId: DataId): Promise<tf.backend_util.BackendValues> {
    return this.readSync(dataId);
  }

  override refCount(dataId: DataId): number {
    return this.data.has(dataId) ? this.data.get(dataId).refCount : 0;
  }

  override incRef(dataId: DataId): void {
    this.data.get(dataId).refCount++;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    if (!this.data.has(dataId)) return true;
    const d = this.data.get(dataId);
    d.refCount--;
    if (!force && d.refCount > 0) return false;
    this.addon.free(d.id);
    if (d.extra !== undefined) for (const id of d.extra) this.addon.free(id);
    this.data.delete(dataId);
    return true;
  }

  override numDataIds(): number {
    return this.data.numDataIds();
  }

  /** Element strides of the native tensor behind a tfjs tensor (for layout checks). */
  stridesOf(t: tf.TensorInfo): number[] {
    return this.addon.strides(this.data.get(t.dataId).id);
  }

  /** Native tensors alive in the addon (should equal numDataIds() between kernels). */
  numNativeTensors(): number {
    return this.addon.live();
  }

  override memory(): { unreliable: boolean; reasons: string[] } {
    return { unreliable: true, reasons: ['Tensors live in libtorch; bytes are counted by tfjs from shapes.'] };
  }

  override async time(f: () => void): Promise<tf.BackendTimingInfo> {
    const start = performance.now();
    f();
    return { kernelMs: performance.now() - start };
  }

  override floatPrecision(): 32 {
    return 32;
  }

  override epsilon(): number {
    return 1e-7;
  }

  override dispose(): void {
    // Tensors are freed through disposeData; nothing global to release.
  }

  // ---- kernel helpers ----

  /** Native id of a kernel input or intermediate (a reshape view if tfjs reused a dataId under another shape). */
  handle(t: tf.TensorInfo | Native): number {
    if (t instanceof Native) return t.id;
    const d = this.data.get(t.dataId);
    if (sameShape(d.shape, t.shape)) return d.id;
    return this.aten('reshape', [d.id, t.shape]).id;
  }

  private toArg(a: Arg): AtenArg {
    if (a instanceof Native) return a.id;
    if (isTensorInfo(a)) return this.handle(a);
    if (Array.isArray(a)) return a.map((x: Arg) => this.toArg(x));
    return a as AtenArg;
  }

  private opFor(name: string): number {
    let idx = this.opIndex.get(name);
    if (idx === undefined) {
      const dot = name.indexOf('.');
      const base = dot < 0 ? name : name.slice(0, dot);
      const overload = dot < 0 ? '' : name.slice(dot + 1);
      idx = this.addon.op(`aten::${base}`, overload);
      this.opIndex.set(name, idx);
    }
    return idx;
  }

  /** Wraps an addon result as a pending intermediate. */
  native(desc: NativeDesc): Native {
    const n = new Native(desc[0], DTYPES[desc[1]], desc.slice(2));
    this.pending.push(n);
    return n;
  }

  private callRaw(name: string, args: readonly Arg[]): NativeDesc | NativeDesc[] | number | boolean | null {
    if (!PROFILING) return this.addon.call(this.opFor(name), args.map((a) => this.toArg(a)));
    const start = performance.now();
    const r = this.addon.call(this.opFor(name), args.map((a) => this.toArg(a)));
    recordAten(name, performance.now() - start);
    return r;
  }

  /** Calls ATen op `name` ('add.Tensor', 'relu', ...) returning one tensor. */
  aten(name: string, args: readonly Arg[]): Native {
    const r = this.callRaw(name, args);
    if (!Array.isArray(r) || Array.isArray(r[0])) throw new Error(`torch backend: aten::${name} did not return one tensor`);
    return this.native(r as NativeDesc);
  }

  /** Calls an ATen op returning several tensors (a tuple or a tensor list). */
  atenMulti(name: string, args: readonly Arg[]): Native[] {
    const r = this.callRaw(name, args);
    if (!Array.isArray(r) || !r.every((x) => Array.isArray(x))) {
      throw new Error(`torch backend: aten::${name} did not return a list of tensors`);
    }
    return (r as NativeDesc[]).map((d) => this.native(d));
  }

  /** Turns a kernel result into a tfjs output (the native is then owned by its dataId). int64 becomes int32. */
  output(result: Native): tf.TensorInfo {
    const n = result.dtype === 'int64' ? this.aten('to.dtype', [result, SCALAR_TYPE.int32]) : result;
    if (n.kept) throw new Error('torch backend: a kernel returned the same native tensor twice');
    n.kept = true;
    const dtype = n.dtype as NumericDtype;
    const dataId = {};
    this.data.set(dataId, { id: n.id, shape: n.shape, dtype, refCount: 1 });
    return { dataId, shape: n.shape, dtype };
  }

  /**
   * Puts native `n` behind `t`'s existing dataId (same shape and dtype), freeing the old one:
   * fills a result slot handed out earlier (see the conv gradient in fused.ts).
   */
  fill(t: tf.TensorInfo, n: Native): void {
    const d = this.data.get(t.dataId);
    if (!sameShape(d.shape, n.shape) || d.dtype !== n.dtype) {
      throw new Error(`torch backend: cannot fill a [${d.shape}] ${d.dtype} slot with [${n.shape}] ${n.dtype}`);
    }
    n.kept = true;
    this.addon.free(d.id);
    d.id = n.id;
  }

  /** Keeps `n` alive as long as `t`'s data (for a later kernel that gets `t` back, like a gradient). */
  attach(t: tf.TensorInfo, key: string, n: Native): void {
    n.kept = true;
    const d = this.data.get(t.dataId);
    (d.extra ??= []).push(n.id);
    (this.attached ??= new WeakMap()).set(t.dataId, { ...(this.attached.get(t.dataId) ?? {}), [key]: n.id });
  }

  /** The native attached to `t` under `key`, if any. */
  attachment(t: tf.TensorInfo, key: string): number | undefined {
    return this.attached?.get(t.dataId)?.[key];
  }

  private attached: WeakMap<object, Record<string, number>> | undefined;

  /** A kernel output sharing the input's data (identity, same-dtype cast). */
  alias(t: tf.TensorInfo): tf.TensorInfo {
    this.incRef(t.dataId);
    return { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
  }

  /** Runs a kernel body; intermediates it does not return are freed even when it throws. */
  runKernel(
    body: () => Native | tf.TensorInfo | readonly (Native | tf.TensorInfo)[],
  ): tf.TensorInfo | tf.TensorInfo[] {
    const mark = this.pending.length;
    try {
      const r = body();
      const toInfo = (x: Native | tf.TensorInfo): tf.TensorInfo => (x instanceof Native ? this.output(x) : x);
      return Array.isArray(r) ? r.map(toInfo) : toInfo(r as Native | tf.TensorInfo);
    } finally {
      for (let i = mark; i < this.pending.length; i++) {
        const n = this.pending[i];
        if (!n.kept) this.addon.free(n.id);
      }
      this.pending.length = mark;
    }
  }
}
