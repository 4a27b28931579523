/**
 * Arithmetic precision of the convolutions: fp32, or bf16 through oneDNN's bf16 kernels with fp32
 * tensors around them (master weights, batch norm, softmax and the loss stay fp32). bf16 pays only
 * on CPUs with bf16 arithmetic; elsewhere oneDNN emulates it, measured at 0.09x fp32's speed on an
 * AVX2-only EPYC (README, "Speed"), so it is refused there rather than run slowly.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import { loadTorchAddon } from './torch/addon.js';

export const PRECISION_CHOICES = ['auto', 'fp32', 'bf16'] as const;
export type PrecisionChoice = (typeof PRECISION_CHOICES)[number];
export type Precision = Exclude<PrecisionChoice, 'auto'>;

/** The /proc/cpuinfo flags that mean the CPU has bf16 arithmetic oneDNN uses. */
export const BF16_CPU_FLAGS = ['avx512_bf16', 'amx_bf16'] as const;

/** The bf16 flags of the first `flags` line of a /proc/cpuinfo text (none when unreadable). */
export function bf16FlagsOf(cpuinfo: string): string[] {
  const line = /^flags\s*:(.*)$/m.exec(cpuinfo);
  if (!line) return [];
  const flags = new Set(line[1].trim().split(/\s+/));
  return BF16_CPU_FLAGS.filter((f) => flags.has(f));
}

/** /proc/cpuinfo's text ('' where it cannot be read). */
export function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

/** What a run computes in, and the line the run log shows. */
export interface PrecisionSelection {
  readonly precision: Precision;
  readonly note: string;
}

/**
 * The precision `choice` means on `backend` and this CPU: `auto` is bf16 where the torch backend
 * runs on a CPU with bf16 arithmetic, else fp32.
 * @param cpuinfo /proc/cpuinfo's text (read when omitted)
 * @throws UserError for bf16 on another backend or on a CPU without bf16 arithmetic
 */
export function resolvePrecision(choice: PrecisionChoice, backend: string, cpuinfo: string = readCpuinfo()): PrecisionSelection {
  if (choice === 'fp32') return { precision: 'fp32', note: 'fp32, as requested' };
  const flags = bf16FlagsOf(cpuinfo);
  const why = flags.length > 0 ? `the CPU has ${flags.join(', ')}` : `the CPU has none of ${BF16_CPU_FLAGS.join(', ')}`;
  if (choice === 'auto') {
    if (backend === 'torch' && flags.length > 0) return { precision: 'bf16', note: `bf16 convolutions, fp32 elsewhere (auto: ${why})` };
    return { precision: 'fp32', note: `fp32 (auto: ${backend !== 'torch' ? `bf16 is a torch-backend option, this run is on ${backend}` : why})` };
  }
  if (backend !== 'torch') throw new UserError('--precision', `bf16 needs the torch backend; this run is on ${backend}`, 'Use --backend torch, or --precision fp32.');
  if (flags.length === 0) {
    throw new UserError('--precision', `bf16 asked for, but ${why}: oneDNN would emulate bf16 at about a tenth of fp32's speed`, 'Use --precision fp32 (or auto, which picks fp32 here).');
  }
  return { precision: 'bf16', note: `bf16 convolutions, fp32 elsewhere, as requested (${why})` };
}

/**
 * Sets the torch engine's convolution precision (a process-wide setting of the addon).
 * @throws UserError when the addon predates the setting
 */
export function setTorchPrecision(precision: Precision): void {
  const addon = loadTorchAddon().addon;
  if (addon === null) {
    if (precision === 'fp32') return;
    throw new UserError('--precision', 'bf16 needs the torch addon, which is not loaded', 'Run npm run build:native.');
  }
  if (!addon.setConvPrecision) {
    if (precision === 'fp32') return;
    throw new UserError('--precision', 'the torch addon was built before bf16 support', 'Rebuild it: npm run build:native.');
  }
  addon.setConvPrecision(precision === 'bf16');
}

/**
 * Runs `job` with `choice` resolved for the active `backend` and set on the torch engine (other
 * backends compute in fp32), then puts the engine back to fp32, so that later work in the process
 * does not inherit a run's precision.
 */
export async function withPrecision<T>(choice: PrecisionChoice, backend: string, job: (selected: PrecisionSelection) => Promise<T> | T): Promise<T> {
  const selected = resolvePrecision(choice, backend);
  try {
    if (backend === 'torch') setTorchPrecision(selected.precision);
    return await job(selected);
  } finally {
    if (backend === 'torch') setTorchPrecision('fp32');
  }
}
