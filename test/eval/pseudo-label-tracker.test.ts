import { describe, expect, it } from 'vitest';
import { PseudoLabelTracker, type PseudoLabelObservation } from '../../src/eval/pseudo-label-tracker.js';

const i32 = (xs: number[]): Int32Array => Int32Array.from(xs);
const u8 = (xs: number[]): Uint8Array => Uint8Array.from(xs);

// Two steps of 4 unlabeled samples, C = 4 (class 3 never occurs: all its values are null).
const step1: PseudoLabelObservation = { pseudoLabels: i32([0, 1, 1, 2]), groundTruth: i32([0, 1, 2, 2]), confident: u8([1, 0, 1, 1]) };
const step2: PseudoLabelObservation = { pseudoLabels: i32([0, 0, 1, 1]), groundTruth: i32([0, 1, 1, 0]), confident: u8([1, 1, 0, 0]) };

describe('PseudoLabelTracker', () => {
  it('emits per-class recall, precision and gain every W steps (hand-computed)', () => {
    const t = new PseudoLabelTracker(4, 2);
    expect(t.recordStep({ final: step1 })).toBeNull();
    const w = t.recordStep({ final: step2 });
    expect(w).not.toBeNull();
    if (w === null) return;
    expect([w.startStep, w.endStep, w.numClasses]).toEqual([1, 2, 4]);
    const s = w.sources['final'];
    expect(s.samples).toBe(8);
    expect(s.groundTruthCount).toEqual([3, 3, 2, 0]);
    // all pseudo-labels: counts [3, 4, 1, 0], correct [2, 2, 1, 0]
    expect(s.all.count).toEqual([3, 4, 1, 0]);
    expect(s.all.correct).toEqual([2, 2, 1, 0]);
    expect(s.all.recall).toEqual([2 / 3, 2 / 3, 1 / 2, null]);
    expect(s.all.precision).toEqual([2 / 3, 2 / 4, 1, null]);
    expect(s.all.gain).toEqual([1, 4 / 3, 1 / 2, null]);
    expect(s.all.meanRecall).toBeCloseTo((2 / 3 + 2 / 3 + 1 / 2) / 3, 12);
    expect(s.all.meanPrecision).toBeCloseTo((2 / 3 + 1 / 2 + 1) / 3, 12);
    expect(s.all.imbalanceRatio).toBe(4);
    // q = [3, 4, 1, 0] / 8, p = [3, 3, 2, 0] / 8
    expect(s.all.klToGroundTruth).toBeCloseTo((3 / 8) * Math.log(1) + (4 / 8) * Math.log(4 / 3) + (1 / 8) * Math.log(1 / 2), 12);
    // confident only: counts [3, 1, 1, 0], correct [2, 0, 1, 0]
    expect(s.confident?.count).toEqual([3, 1, 1, 0]);
    expect(s.confident?.recall).toEqual([2 / 3, 0, 1 / 2, null]);
    expect(s.confident?.precision).toEqual([2 / 3, 0, 1, null]);
    expect(s.confidentRate).toBeCloseTo(5 / 8, 12);
  });

  it('gives null precision for a class that is never predicted, and starts a fresh window after a flush', () => {
    const t = new PseudoLabelTracker(3, 1);
    const w = t.recordStep({ final: { pseudoLabels: i32([0, 0, 1]), groundTruth: i32([0, 2, 1]) } });
    expect(w?.sources['final'].all.precision).toEqual([0.5, 1, null]);
    expect(w?.sources['final'].all.recall).toEqual([1, 1, 0]);
    // class 0 predicted twice, ground truth once: the KL is defined; imbalance 2/1
    expect(w?.sources['final'].all.imbalanceRatio).toBe(2);
    expect(w?.sources['final'].confident).toBeUndefined();
    const w2 = t.recordStep({ final: { pseudoLabels: i32([2]), groundTruth: i32([2]) } });
    expect([w2?.startStep, w2?.endStep]).toEqual([2, 2]);
    expect(w2?.sources['final'].all.count).toEqual([0, 0, 1]);
  });

  it('counts a missing pseudo-label (-1, e.g. semantic during warm-up) in the ground-truth denominator only', () => {
    const t = new PseudoLabelTracker(2, 1);
    const w = t.recordStep({ semantic: { pseudoLabels: i32([-1, -1, 1]), groundTruth: i32([0, 1, 1]) } });
    const s = w?.sources['semantic'];
    expect(s?.all.count).toEqual([0, 1]);
    expect(s?.all.recall).toEqual([0, 0.5]);
    expect(s?.all.precision).toEqual([null, 1]);
    expect(s?.all.klToGroundTruth).toBeCloseTo(Math.log(1 / (2 / 3)), 12);
  });

  it('keeps sources apart', () => {
    const t = new PseudoLabelTracker(2, 1);
    const w = t.recordStep({
      final: { pseudoLabels: i32([0, 1]), groundTruth: i32([0, 1]) },
      linear: { pseudoLabels: i32([0, 0]), groundTruth: i32([0, 1]) },
    });
    expect(w?.sources['final'].all.recall).toEqual([1, 1]);
    expect(w?.sources['linear'].all.recall).toEqual([1, 0]);
  });

  it('flush returns the partial window, then null', () => {
    const t = new PseudoLabelTracker(4, 500);
    t.recordStep({ final: step1 });
    const w = t.flush();
    expect([w?.startStep, w?.endStep]).toEqual([1, 1]);
    expect(t.flush()).toBeNull();
    expect(t.steps).toBe(1);
  });

  it('resumes from state() mid-window with identical results', () => {
    const whole = new PseudoLabelTracker(4, 2);
    whole.recordStep({ final: step1 });
    const expected = whole.recordStep({ final: step2 });

    const first = new PseudoLabelTracker(4, 2);
    first.recordStep({ final: step1 });
    const saved = JSON.parse(JSON.stringify(first.state()));
    const resumed = PseudoLabelTracker.fromState(saved);
    expect(resumed.recordStep({ final: step2 })).toEqual(expected);
  });

  it('rejects bad input', () => {
    const t = new PseudoLabelTracker(2, 1);
    expect(() => t.observe('final', { pseudoLabels: i32([0]), groundTruth: i32([0, 1]) })).toThrow(/pseudoLabels has 1/);
    expect(() => t.observe('final', { pseudoLabels: i32([2]), groundTruth: i32([0]) })).toThrow(/>= 2/);
    expect(() => new PseudoLabelTracker(2, 0)).toThrow(/window/);
  });
});
