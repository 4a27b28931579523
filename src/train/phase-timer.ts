import { performance } from 'node:perf_hooks';
import { LOOP_PHASES, type LoopPhase, type PhaseSeconds } from '../report/loop-phases.js';

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
