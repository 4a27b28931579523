/**
 * What `ssl bench` times, independent of who does the work: a runner executes one timed round of
 * training steps and says how many images per second it managed. Our trainer (one runner per tfjs
 * backend) and the PyTorch reference (one runner per memory format) implement the same interface,
 * so the interleaving and the statistics are tested with fake runners.
 */

/** One timed round: `steps` consecutive training steps. */
export interface RoundResult {
  readonly steps: number;
  /** Wall-clock seconds of the round (warm-up steps are never included). */
  readonly seconds: number;
  /** steps · images per step / seconds. */
  readonly imagesPerSecond: number;
  /** Resident set size in bytes after the round, for runners in their own process (PyTorch). */
  readonly rss?: number;
}

/** Who runs the step: our trainer on a tfjs backend, or PyTorch in the reference script. */
export type RunnerKind = 'ours' | 'pytorch';

/** A participant in the benchmark. */
export interface BenchRunner {
  /** Shown in the report: the backend name (`torch`, `cpu`) or `pytorch channels_last` / `pytorch nchw`. */
  readonly label: string;
  readonly kind: RunnerKind;
  /** Timed rounds this runner takes part in (slow backends take part in the first only). */
  readonly rounds: number;
  /** Runs one timed round (1-based index); rejects if the step fails. */
  round(index: number): Promise<RoundResult>;
}

/** One executed round, in execution order. */
export interface RoundRecord extends RoundResult {
  readonly label: string;
  readonly kind: RunnerKind;
  readonly round: number;
}

/**
 * The order rounds run in: round 1 of every runner (in the given order), then round 2 of every
 * runner, ... A runner with fewer `rounds` drops out after its last one. Interleaving spreads slow
 * drifts of the machine (thermal state, other processes, caches) over all participants instead of
 * charging them to whoever ran last.
 */
export function interleavedOrder(runners: readonly Pick<BenchRunner, 'label' | 'rounds'>[], rounds: number): Array<{ label: string; round: number }> {
  const order: Array<{ label: string; round: number }> = [];
  for (let r = 1; r <= rounds; r++) {
    for (const runner of runners) if (r <= Math.min(rounds, runner.rounds)) order.push({ label: runner.label, round: r });
  }
  return order;
}

/** A runner whose round threw; it takes no further rounds. */
export interface RoundFailure {
  readonly label: string;
  readonly kind: RunnerKind;
  readonly round: number;
  readonly message: string;
}

/**
 * Runs every runner's rounds in {@link interleavedOrder} and returns the records in execution
 * order. `onRound` sees each record as soon as it is measured (progress lines). A runner whose
 * round throws is recorded in `failures` and skipped from then on; the others go on.
 */
export async function runInterleaved(
  runners: readonly BenchRunner[],
  rounds: number,
  onRound?: (record: RoundRecord) => void,
): Promise<{ records: RoundRecord[]; failures: RoundFailure[] }> {
  const labels = new Set<string>();
  for (const r of runners) {
    if (labels.has(r.label)) throw new Error(`runInterleaved: duplicate runner label '${r.label}'`);
    labels.add(r.label);
  }
  const byLabel = new Map(runners.map((r) => [r.label, r]));
  const records: RoundRecord[] = [];
  const failures: RoundFailure[] = [];
  for (const { label, round } of interleavedOrder(runners, rounds)) {
    if (failures.some((f) => f.label === label)) continue;
    const runner = byLabel.get(label) as BenchRunner;
    let result: RoundResult;
    try {
      result = await runner.round(round);
    } catch (err) {
      failures.push({ label, kind: runner.kind, round, message: err instanceof Error ? err.message : String(err) });
      continue;
    }
    const record: RoundRecord = { label, kind: runner.kind, round, ...result };
    records.push(record);
    onRound?.(record);
  }
  return { records, failures };
}

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median: empty list');
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
