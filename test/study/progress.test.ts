import { describe, expect, it } from 'vitest';
import { estimateSecondsLeft } from '../../src/study/run-state.js';
import { formatStudyProgress, type ProgressRun } from '../../src/study/progress.js';

const run = (label: string, state: ProgressRun['state'], step: number | null, itPerSec: number | null): ProgressRun => ({ label, state, step, total: 100, itPerSec });

describe('study progress and ETA', () => {
  it('steps left over the mean running speed times the runs at once, hand-computed', () => {
    const runs = [run('d', 'done', 100, 3), run('a', 'running', 40, 2), run('b', 'running', 0, null), run('c', 'queued', null, null)];
    // left = 60 + 100 + 100 = 260 steps; per run 2 it/s (the running run measured so far); 2 at once: 260 / (2 · 2) = 65 s.
    expect(estimateSecondsLeft(runs, 2)).toBe(65);
    expect(formatStudyProgress('s', runs, 2)).toBe('study s: 1/4 done | a 40/100, b 0/100 | ETA 01:05');
    // Between runs: the finished run's speed, 3 it/s; 200 steps / (3 · 2) = 33.3 s.
    expect(estimateSecondsLeft([run('d', 'done', 100, 3), run('a', 'queued', null, null), run('b', 'failed', 10, null), run('c', 'interrupted', 0, null)], 2)).toBeCloseTo(200 / 6, 9);
    expect(estimateSecondsLeft([run('a', 'queued', null, null)], 1)).toBeNull();
    expect(estimateSecondsLeft([run('a', 'done', 100, 1), run('b', 'failed', 5, null)], 1)).toBe(0);
  });

  it('names failed and interrupted runs in the line', () => {
    expect(formatStudyProgress('s', [run('a', 'failed', 1, null), run('b', 'interrupted', 3, null)], 1)).toBe('study s: 0/2 done, 1 failed, 1 interrupted | ETA --:--');
  });
});
