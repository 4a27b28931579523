import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A native tensor as the addon describes it: [id, dtypeCode, ...shape].
 * dtype codes: 0 float32, 1 int32, 2 bool (ATen int64 results arrive as int32).
 */
export type NativeDesc = number[];

/** Argument of a boxed ATen call: tensor ids, numbers, booleans, strings, lists, null (None). */
export type AtenArg = number | boolean | string | null | readonly AtenArg[];

/** The functions of native/src/addon.cc. Tensors are integer ids into the addon's handle table. */
export interface TorchAddon {
  /** Looks up an ATen operator once; returns the index `call` takes. Throws if unknown. */
  op(name: string, overload: string): number;
  /** Boxed call through the c10 dispatcher; missing trailing args take the schema defaults. */
  call(op: number, args: readonly AtenArg[]): NativeDesc | NativeDesc[] | number | boolean | null;
  /** Copies values into a new native tensor. */
  fromData(values: Float32Array | Int32Array | Uint8Array, shape: readonly number[], dtype: number): NativeDesc;
  /** Copies a native tensor out, row-major (bool as Uint8Array). */
  toData(id: number): Float32Array | Int32Array | Uint8Array;
  free(id: number): void;
  /** Element strides of a native tensor (row-major [.., C] is what kernels should return). */
  strides(id: number): number[];
  /** Number of native tensors held for JavaScript. */
  live(): number;
  setThreads(n: number): void;
  getThreads(): number;
  /** The caching CPU allocator's counters (native/src/caching-allocator.h). */
  allocatorStats(): { cachedBytes: number; liveBytes: number; hits: number; misses: number };
  /** Returns all cached free blocks to the OS. */
  emptyCache(): void;
  /** Caps the bytes of freed blocks kept for reuse (0: no caching). */
  setCacheLimit(bytes: number): void;
  /** libtorch's build configuration (BLAS, oneDNN, OpenMP). */
  config(): string;
  /** Convolutions in bf16 (operands cast, fp32 results) or fp32; process-wide. Absent in addons built before it. */
  setConvPrecision?(bf16: boolean): void;
  conv2d(x: number, filter: number, stride: number[], padding: number[], dilation: number[], groups: number): NativeDesc;
  /** Convolution with bias, then the activation in place (act 0 none, 1 relu, 2 leaky relu with slope alpha). Absent in addons built before it. */
  conv2dBiasAct?(x: number, filter: number, bias: number | null, stride: number[], padding: number[], dilation: number[], groups: number, act: 0 | 1 | 2, alpha: number): NativeDesc;
  conv2dBackward(
    dy: number,
    x: number,
    filter: number,
    stride: number[],
    padding: number[],
    dilation: number[],
    groups: number,
    needInput: boolean,
    needFilter: boolean,
  ): [NativeDesc | null, NativeDesc | null];
  conv2dBackpropInput(
    dy: number,
    filter: number,
    inputShape: readonly number[],
    stride: number[],
    padding: number[],
    dilation: number[],
    groups: number,
  ): NativeDesc;
  conv2dBackpropFilter(
    x: number,
    dy: number,
    filterShape: readonly number[],
    stride: number[],
    padding: number[],
    dilation: number[],
    groups: number,
  ): NativeDesc;
  batchNormTrain(x: number, gamma: number | null, beta: number | null, eps: number): [NativeDesc, NativeDesc, NativeDesc];
  /** Batch norm with batch statistics, then the activation in place (act 1 relu, 2 leaky relu): [z, mean, invstd]. Absent in addons built before it. */
  batchNormActTrain?(x: number, gamma: number | null, beta: number | null, eps: number, act: 1 | 2, alpha: number): [NativeDesc, NativeDesc, NativeDesc];
  batchNormTrainBackward(
    dy: number,
    x: number,
    gamma: number | null,
    mean: number,
    invstd: number,
    eps: number,
    needX: boolean,
    needGamma: boolean,
    needBeta: boolean,
  ): [NativeDesc | null, NativeDesc | null, NativeDesc | null];
  /** One SGD step (PyTorch's operation order): [param', velocity']. */
  sgdUpdate(param: number, grad: number, velocity: number, lr: number, momentum: number, weightDecay: number, nesterov: boolean): [NativeDesc, NativeDesc];
  /** decay·target + (1 − decay)·source. */
  emaUpdate(target: number, source: number, decay: number): NativeDesc;
  batchNormEval(
    x: number,
    mean: number,
    variance: number,
    gamma: number | null,
    beta: number | null,
    eps: number,
  ): NativeDesc;
}

/** The addon, or why it could not be loaded. */
export type AddonLoad = { readonly addon: TorchAddon } | { readonly addon: null; readonly reason: string };

const ADDON_RELATIVE = join('native', 'build', 'Release', 'ssl_torch.node');
let cached: AddonLoad | undefined;

/** Finds native/build/Release/ssl_torch.node above this module (src/ in dev, dist/src/ when built). */
function findAddonPath(): string | null {
  const override = process.env.SSL_TORCH_ADDON;
  if (override) return existsSync(override) ? override : null;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, ADDON_RELATIVE);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return null;
}

/**
 * Loads the libtorch addon once. Never throws: a missing build or a failed dlopen (libtorch
 * uninstalled after the build) is reported as `reason`.
 */
export function loadTorchAddon(): AddonLoad {
  if (cached !== undefined) return cached;
  const path = findAddonPath();
  if (path === null) {
    cached = { addon: null, reason: 'the native addon is not built (native/build/Release/ssl_torch.node missing)' };
    return cached;
  }
  // libgomp reads this once, when libtorch loads. OpenMP's default spins idle threads at barriers;
  // with other work on the cores (data workers, other processes, parallel tests) a spinning thread
  // holds a core its sibling needs, and steps ran up to 4x slower. Passive threads sleep instead.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  try {
    const require = createRequire(import.meta.url);
    cached = { addon: require(path) as TorchAddon };
  } catch (e) {
    cached = { addon: null, reason: `the native addon failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
  return cached;
}
