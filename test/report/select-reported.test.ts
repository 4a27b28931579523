import { describe, expect, it } from 'vitest';
import type { ClassificationMetrics } from '../../src/eval/metrics.js';
import { median, selectReported, type EvalRecord } from '../../src/report/select-reported.js';
import { UserError } from '../../src/errors.js';

function metrics(top1: number, perClass: Array<number | null> = [top1, top1]): ClassificationMetrics {
  return {
    numSamples: 10,
    top1,
    balancedAccuracy: top1,
    geometricMeanRecall: top1,
    perClassAccuracy: perClass,
    perClassCount: [5, 5],
  };
}

function evals(tests: number[], vals?: number[]): EvalRecord[] {
  return tests.map((t, i) => ({ step: (i + 1) * 100, test: metrics(t), ...(vals ? { val: metrics(vals[i]) } : {}) }));
}

describe('median', () => {
  it('follows numpy: middle value for odd counts, mean of the two middle values for even counts', () => {
    expect(median([0.5, 0.9, 0.7, 0.6, 0.8])).toBe(0.7);
    expect(median([0.5, 0.9, 0.7, 0.6])).toBeCloseTo(0.65, 12);
  });
});

describe('selectReported', () => {
  it('median-last-20 with an odd number of evaluations', () => {
    const s = selectReported(evals([0.5, 0.9, 0.7, 0.6, 0.8]), 'median-last-20');
    expect(s.rule).toBe('median-last-20');
    expect(s.evaluations).toBe(5);
    expect(s.test.top1).toBe(0.7);
  });

  it('median-last-20 with an even number of evaluations averages the middle two', () => {
    const s = selectReported(evals([0.5, 0.9, 0.7, 0.6]), 'median-last-20');
    expect(s.test.top1).toBeCloseTo(0.65, 12);
  });

  it('uses only the last 20 evaluations', () => {
    // 5 early evaluations at 0.0, then 20 at 0.1 .. 2.0 (scaled): median of the last 20 = mean of 10th and 11th
    const tests = [0, 0, 0, 0, 0, ...Array.from({ length: 20 }, (_, i) => (i + 1) / 100)];
    const s = selectReported(evals(tests), 'median-last-20');
    expect(s.evaluations).toBe(20);
    expect(s.steps[0]).toBe(600);
    expect(s.test.top1).toBeCloseTo(0.105, 12);
  });

  it('takes each class median separately and skips nulls', () => {
    const e: EvalRecord[] = [
      { step: 1, test: metrics(0.5, [0.2, null]) },
      { step: 2, test: metrics(0.6, [0.4, 0.9]) },
      { step: 3, test: metrics(0.7, [0.9, 0.7]) },
    ];
    expect(selectReported(e, 'median-last-20').test.perClassAccuracy).toEqual([0.4, 0.8]);
  });

  it('last picks the last evaluation', () => {
    const s = selectReported(evals([0.5, 0.9, 0.7]), 'last');
    expect([s.test.top1, s.steps[0], s.evaluations]).toEqual([0.7, 300, 1]);
  });

  it('best-val picks the test metrics at the best validation accuracy (earliest on ties), never the best test', () => {
    const s = selectReported(evals([0.9, 0.5, 0.6, 0.95], [0.4, 0.8, 0.8, 0.7]), 'best-val');
    expect(s.steps).toEqual([200]);
    expect(s.test.top1).toBe(0.5);
    expect(s.validation?.top1).toBe(0.8);
  });

  it('best-val without validation metrics is a UserError naming the field', () => {
    expect(() => selectReported(evals([0.5]), 'best-val')).toThrow(UserError);
    expect(() => selectReported(evals([0.5]), 'best-val')).toThrow(/selection/);
  });

  it('refuses an empty history', () => {
    expect(() => selectReported([], 'last')).toThrow(/no evaluations/);
  });
});
