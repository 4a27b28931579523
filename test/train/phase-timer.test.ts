import { describe, expect, it } from 'vitest';
import { PhaseTimer } from '../../src/train/phase-timer.js';
import { formatPhaseShares, LOOP_PHASES } from '../../src/report/loop-phases.js';

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin: the phase must hold this much wall time
  }
}

describe('PhaseTimer', () => {
  it('adds each call to its phase, async ones included, and puts the uncovered wall time in other', async () => {
    const timer = new PhaseTimer();
    expect(timer.time('steps', () => (busyWait(30), 7))).toBe(7);
    timer.time('steps', () => busyWait(30));
    await timer.timeAsync('batches', () => new Promise((r) => setTimeout(r, 40)));
    busyWait(20);
    const t = timer.totals();
    expect(Object.keys(t).sort()).toEqual([...LOOP_PHASES, 'other'].sort());
    expect(t.steps).toBeGreaterThanOrEqual(0.06);
    expect(t.steps).toBeLessThan(0.2);
    expect(t.batches).toBeGreaterThanOrEqual(0.035);
    expect(t.evaluation).toBe(0);
    expect(t.other).toBeGreaterThanOrEqual(0.018);
  });

  it('still counts a call that throws', () => {
    const timer = new PhaseTimer();
    expect(() =>
      timer.time('evaluation', () => {
        busyWait(15);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(timer.totals().evaluation).toBeGreaterThanOrEqual(0.014);
  });
});

describe('formatPhaseShares', () => {
  it('lists shares largest first and leaves out phases under half a percent', () => {
    expect(formatPhaseShares({ batches: 3, steps: 71, evaluation: 24, checkpoints: 1.6, boundaries: 0.4, other: 0 })).toBe(
      'steps 71% · evaluation 24% · batches 3% · checkpoints 2%',
    );
    expect(formatPhaseShares({ batches: 0, steps: 0, evaluation: 0, checkpoints: 0, boundaries: 0, other: 0 })).toBe('no time recorded');
  });
});
