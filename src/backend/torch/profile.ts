/**
 * Opt-in time profile of the torch backend: `SSL_TORCH_PROFILE=1` accumulates wall time and call
 * counts per tfjs kernel and per ATen operator and prints both tables to stderr when the process
 * exits (`SSL_TORCH_PROFILE=shapes`: kernels keyed by their input shapes too). Off (the default), the hot paths pay one boolean test per call.
 */

/** True when SSL_TORCH_PROFILE was 1 (or `shapes`) when this module loaded. */
export const PROFILING = process.env.SSL_TORCH_PROFILE === '1' || process.env.SSL_TORCH_PROFILE === 'shapes';
/** SSL_TORCH_PROFILE=shapes: kernels are listed per input shapes too. */
export const PROFILING_SHAPES = process.env.SSL_TORCH_PROFILE === 'shapes';

interface Entry {
  calls: number;
  ms: number;
}

const kernels = new Map<string, Entry>();
const atenOps = new Map<string, Entry>();
let printerInstalled = false;

function add(table: Map<string, Entry>, name: string, ms: number): void {
  const e = table.get(name);
  if (e === undefined) table.set(name, { calls: 1, ms });
  else {
    e.calls++;
    e.ms += ms;
  }
}

function format(title: string, table: Map<string, Entry>): string {
  const rows = [...table.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((s, [, e]) => s + e.ms, 0);
  const lines = rows.map(
    ([name, e]) =>
      `  ${name.padEnd(34)} ${e.ms.toFixed(1).padStart(10)} ms ${((100 * e.ms) / total).toFixed(1).padStart(5)}% ${String(e.calls).padStart(8)} calls ${((1000 * e.ms) / e.calls).toFixed(1).padStart(9)} us/call`,
  );
  return [`${title} (total ${total.toFixed(1)} ms)`, ...lines].join('\n');
}

function installPrinter(): void {
  if (printerInstalled) return;
  printerInstalled = true;
  process.on('exit', () => {
    process.stderr.write(`${format('torch backend: time per tfjs kernel (nested kernels counted in both)', kernels)}\n`);
    process.stderr.write(`${format('torch backend: time per ATen operator (boxed calls only)', atenOps)}\n`);
  });
}

/** Adds one timed tfjs kernel call. */
export function recordKernel(name: string, ms: number): void {
  installPrinter();
  add(kernels, name, ms);
}

/** Adds one timed boxed ATen call. */
export function recordAten(name: string, ms: number): void {
  installPrinter();
  add(atenOps, name, ms);
}
