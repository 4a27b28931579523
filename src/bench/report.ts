import { median, type RoundFailure, type RoundRecord } from './runner.js';
import type { EndToEndReport } from './end-to-end.js';
import { formatPhaseShares } from '../report/loop-phases.js';
import { stepUsesUnlabeled, type BenchStep, type MemorySnapshot } from './our-runner.js';

/** One participant's result: the median over its timed rounds. */
export interface RunnerSummary {
  readonly label: string;
  /** Median images/second over the rounds. */
  readonly imagesPerSecond: number;
  /** images/second of each round, in order. */
  readonly rounds: number[];
  /** Timed steps per round. */
  readonly steps: number;
}

/** Our result on one backend, with the memory counters of its timed rounds. */
export interface OurSummary extends RunnerSummary {
  readonly backend: string;
  readonly memoryStart: MemorySnapshot;
  readonly memoryEnd: MemorySnapshot;
  /** ours / PyTorch's best format (medians); null without a PyTorch reference. */
  readonly ratio: number | null;
  /**
   * Per round: ours / the faster PyTorch format of the same round. Pairs runs that saw the same
   * machine conditions, so on a busy machine their median is steadier than the ratio of medians.
   */
  readonly roundRatios: number[];
}

/** The PyTorch side of the report. */
export interface PyTorchSummary {
  readonly python: string;
  readonly version: string;
  readonly threads: number;
  /** OMP_WAIT_POLICY of the Python process (ours: BenchReport.ompWaitPolicy). */
  readonly ompWaitPolicy: string;
  /** glibc malloc setup of the Python process: tuned (freed memory reused) or stock. */
  readonly malloc: string;
  /** One entry per memory format (label `pytorch channels_last`, `pytorch nchw`). */
  readonly formats: RunnerSummary[];
  /** The format with the highest median: the denominator of the ratio. */
  readonly best: RunnerSummary | null;
  /** The Python process's resident set size after its first and its last round, bytes. */
  readonly rss: { readonly first: number; readonly last: number } | null;
}

/** Everything `ssl bench` measured; `--json` prints this object. */
export interface BenchReport {
  readonly net: string;
  readonly step: BenchStep;
  readonly imagesPerStep: number;
  readonly threads: number;
  /** OMP_WAIT_POLICY of this process (libgomp of our torch backend) when the rounds ran. */
  readonly ompWaitPolicy: string;
  readonly rounds: number;
  readonly warmup: number;
  /** How the backend(s) were chosen (selectBackend's note), one line each. */
  readonly backendNotes: string[];
  readonly ours: OurSummary[];
  /** Backends that could not run the step, and why. */
  readonly unavailable: Array<{ readonly backend: string; readonly reason: string }>;
  readonly pytorch: PyTorchSummary | null;
  /** Why there is no PyTorch reference (when `pytorch` is null). */
  readonly pytorchNote: string | null;
  /** Every timed round in execution order (shows the interleaving). */
  readonly records: RoundRecord[];
  readonly failures: RoundFailure[];
  /** Free-form remarks (slow backends timed briefly, ...). */
  readonly notes: string[];
  /** `--end-to-end`: the real `ssl run` loop of the main job, timed after the step rounds. */
  readonly endToEnd?: EndToEndReport;
}

/** Median per label of the records, in first-seen order. */
export function summarizeRecords(records: readonly RoundRecord[]): RunnerSummary[] {
  const byLabel = new Map<string, RoundRecord[]>();
  for (const r of records) {
    const list = byLabel.get(r.label) ?? [];
    list.push(r);
    byLabel.set(r.label, list);
  }
  return [...byLabel].map(([label, rs]) => ({
    label,
    imagesPerSecond: median(rs.map((r) => r.imagesPerSecond)),
    rounds: rs.map((r) => r.imagesPerSecond),
    steps: rs[0].steps,
  }));
}

/** ours / max(PyTorch formats) per round, for the rounds where ours and PyTorch both ran. */
export function roundRatios(records: readonly RoundRecord[], ourLabel: string): number[] {
  const out: number[] = [];
  const rounds = [...new Set(records.map((r) => r.round))].sort((a, b) => a - b);
  for (const round of rounds) {
    const ours = records.find((r) => r.round === round && r.label === ourLabel && r.kind === 'ours');
    const theirs = records.filter((r) => r.round === round && r.kind === 'pytorch');
    if (ours && theirs.length > 0) out.push(ours.imagesPerSecond / Math.max(...theirs.map((r) => r.imagesPerSecond)));
  }
  return out;
}

/** The PyTorch format with the highest median, or null when none ran. */
export function bestOf(formats: readonly RunnerSummary[]): RunnerSummary | null {
  let best: RunnerSummary | null = null;
  for (const f of formats) if (!best || f.imagesPerSecond > best.imagesPerSecond) best = f;
  return best;
}

/** ours / PyTorch best, or null without a reference. */
export function speedRatio(ours: number, pytorchBest: RunnerSummary | null): number | null {
  return pytorchBest ? ours / pytorchBest.imagesPerSecond : null;
}

const MB = 1024 * 1024;

/** Relative change end/start − 1. */
export function rssGrowth(m: { memoryStart: MemorySnapshot; memoryEnd: MemorySnapshot }): number {
  return m.memoryEnd.rss / m.memoryStart.rss - 1;
}

/** One line on memory over the timed rounds of one backend. */
export function formatMemory(o: OurSummary): string {
  const g = rssGrowth(o);
  const parts = [
    `RSS ${(o.memoryStart.rss / MB).toFixed(1)} MB -> ${(o.memoryEnd.rss / MB).toFixed(1)} MB (${g >= 0 ? '+' : ''}${(g * 100).toFixed(1)}%${Math.abs(g) > 0.05 ? ', MORE THAN 5%' : ''})`,
    `tfjs tensors ${o.memoryStart.tfjsTensors} -> ${o.memoryEnd.tfjsTensors}`,
  ];
  if (o.memoryStart.nativeTensors !== undefined && o.memoryEnd.nativeTensors !== undefined) {
    parts.push(`native tensors ${o.memoryStart.nativeTensors} -> ${o.memoryEnd.nativeTensors}`);
  }
  return `memory ${o.label} (first timed round -> after the last round): ${parts.join('; ')}`;
}

const pad = (s: string, n: number): string => s.padEnd(n);
const lpad = (s: string, n: number): string => s.padStart(n);

/** One progress line per timed round. */
export function formatRound(r: RoundRecord): string {
  const who = r.kind === 'ours' ? `ours ${r.label}` : r.label;
  return `round ${r.round}  ${pad(who, 24)} ${lpad(String(r.steps), 5)} steps ${lpad(r.seconds.toFixed(2), 8)} s ${lpad(r.imagesPerSecond.toFixed(1), 9)} img/s`;
}

/** The human-readable report (stdout of `ssl bench` without --json). */
export function formatReport(rep: BenchReport): string {
  const lines: string[] = [];
  const what = stepUsesUnlabeled(rep.step) ? '64 labeled + 128 weak + 128 strong 32x32x3 images' : '64 labeled 32x32x3 images';
  lines.push(`ssl bench: ${rep.net}, ${rep.step} step (${what} = ${rep.imagesPerStep} images/step), ${rep.threads} threads`);
  lines.push(`${rep.rounds} interleaved rounds, ${rep.warmup} untimed warm-up steps; images/second = median over rounds`);
  for (const n of rep.backendNotes) lines.push(`backend: ${n}`);
  lines.push('');
  const rows: Array<[string, string, string]> = [['', 'images/s', 'rounds']];
  for (const o of rep.ours) rows.push([`ours ${o.label}`, o.imagesPerSecond.toFixed(1), `${o.rounds.map((v) => v.toFixed(1)).join(' ')}  (${o.steps} steps each)`]);
  if (rep.pytorch) {
    for (const f of rep.pytorch.formats) rows.push([f.label, f.imagesPerSecond.toFixed(1), `${f.rounds.map((v) => v.toFixed(1)).join(' ')}  (${f.steps} steps each)`]);
  }
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  for (const [a, b, c] of rows) lines.push(`  ${pad(a, w0)}  ${lpad(b, w1)}  ${c}`.trimEnd());
  lines.push('');
  if (rep.pytorch && rep.pytorch.best) {
    lines.push(
      `PyTorch ${rep.pytorch.version} (${rep.pytorch.python}, ${rep.pytorch.threads} threads, OMP_WAIT_POLICY ${rep.pytorch.ompWaitPolicy}, malloc ${rep.pytorch.malloc}; ours ${rep.ompWaitPolicy}); best format: ${rep.pytorch.best.label.replace('pytorch ', '')}`,
    );
    for (const o of rep.ours) {
      const paired = o.roundRatios.length > 0 ? `; per round ${o.roundRatios.map((v) => v.toFixed(2)).join(' ')} (median ${median(o.roundRatios).toFixed(2)})` : '';
      lines.push(`ratio ours ${o.label} / PyTorch best = ${(o.ratio as number).toFixed(2)}${paired}`);
    }
  } else {
    lines.push(`no PyTorch reference: ${rep.pytorchNote ?? 'no PyTorch round completed'}`);
  }
  for (const o of rep.ours) lines.push(formatMemory(o));
  if (rep.pytorch?.rss) {
    lines.push(`memory pytorch (its own process, first -> last round): RSS ${(rep.pytorch.rss.first / MB).toFixed(1)} MB -> ${(rep.pytorch.rss.last / MB).toFixed(1)} MB`);
  }
  for (const u of rep.unavailable) lines.push(`unavailable ${u.backend}: ${u.reason}`);
  for (const f of rep.failures) lines.push(`failed ${f.label} in round ${f.round}: ${f.message}`);
  for (const n of rep.notes) lines.push(`note: ${n}`);
  lines.push('timed: the trainer\'s step (batch to tensors, forward, loss, gradients, SGD, EMA, read-back); not timed: augmentation, data loading, warm-up (docs/bench.md)');
  if (rep.endToEnd) lines.push('', ...formatEndToEnd(rep.endToEnd));
  return `${lines.join('\n')}\n`;
}

/** The `--end-to-end` section: loop and in-loop step rates, and where the loop's time went. */
export function formatEndToEnd(e: EndToEndReport): string[] {
  const img = (itPerSec: number): string => `${(itPerSec * e.imagesPerIteration).toFixed(1)} images/s`;
  return [
    `end to end: \`${e.command}\` (${e.dataset}, ${e.net}; the first ${e.iterations} of ${e.fullIterations} iterations on the full run's schedule, ${e.evaluations} evaluation${e.evaluations === 1 ? '' : 's'})`,
    `  loop          ${e.itPerSec.toFixed(3)} it/s  (${img(e.itPerSec)}, ${e.imagesPerIteration} images/iteration; ${e.seconds.toFixed(1)} s)`,
    `  steps alone   ${e.stepItPerSec.toFixed(3)} it/s  (${img(e.stepItPerSec)}, the same steps inside the loop)`,
    `  time: ${formatPhaseShares(e.phases)}`,
  ];
}
