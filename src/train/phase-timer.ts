import { performance } from 'node:perf_hooks';

/** The parts of a training loop's wall time `ssl bench --end-to-end` and the run summary report. */
export const LOOP_PHASES = ['batches', 'steps', 'evaluation', 'checkpoints', 'boundaries'] as const;
export type LoopPhase = (typeof LOOP_PHASES)[number];

/**
 * Seconds per loop phase: `batches` waiting for the pipeline's next batch, `steps` the training
 * step with its pseudo-label bookkeeping, `evaluation` the EMA model's validation and test passes,
 * `checkpoints` writing them, `boundaries` add-on work between steps (DARP, CReST, DASO's
 * generations). The rest of the loop's wall time (progress, events) is `other`.
 */
export type PhaseSeconds = Readonly<Record<LoopPhase | 'other', number>>;

/** Accumulates wall time per phase; `time` and `timeAsync` add one call's duration. */
export class PhaseTimer {
  private readonly seconds = new Map<LoopPhase, number>(LOOP_PHASES.map((p) => [p, 0]));
  private readonly started = performance.now();

  time<T>(phase: LoopPhase, work: () => T): T {
    const start = performance.now();
    try {
      return work();
    } finally {
      this.add(phase, start);
    }
  }

  async timeAsync<T>(phase: LoopPhase, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.add(phase, start);
    }
  }

  /** Seconds per phase so far; `other` is the wall time since construction the phases do not cover. */
  totals(): PhaseSeconds {
    const wall = (performance.now() - this.started) / 1000;
    const phases = Object.fromEntries(this.seconds) as Record<LoopPhase, number>;
    const covered = LOOP_PHASES.reduce((s, p) => s + phases[p], 0);
    return { ...phases, other: Math.max(0, wall - covered) };
  }

  private add(phase: LoopPhase, start: number): void {
    this.seconds.set(phase, (this.seconds.get(phase) ?? 0) + (performance.now() - start) / 1000);
  }
}

/** "steps 71% · evaluation 24% · batches 3% · …", largest first, phases under 0.5% left out. */
export function formatPhaseShares(p: PhaseSeconds): string {
  const entries = Object.entries(p) as Array<[string, number]>;
  const total = entries.reduce((s, [, v]) => s + v, 0);
  if (!(total > 0)) return 'no time recorded';
  return entries
    .filter(([, v]) => v / total >= 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([name, v]) => `${name} ${Math.round((100 * v) / total)}%`)
    .join(' · ');
}
