import { describe, expect, it } from 'vitest';
import {
  argmaxRows,
  classificationMetrics,
  confusionCounts,
  evaluateProbabilities,
  expectedCalibrationError,
  geometricMeanRecall,
} from '../../src/eval/metrics.js';

describe('classificationMetrics', () => {
  // labels 0,0,1,1,2,2 ; predictions 0,1,1,2,2,2 -> recalls 1/2, 1/2, 2/2
  const labels = Int32Array.from([0, 0, 1, 1, 2, 2]);
  const preds = Int32Array.from([0, 1, 1, 2, 2, 2]);

  it('computes top-1, balanced accuracy, per-class accuracy and geometric mean by hand', () => {
    const m = classificationMetrics(preds, labels, 3, { withConfusion: true });
    expect(m.numSamples).toBe(6);
    expect(m.top1).toBeCloseTo(4 / 6, 12);
    expect(m.perClassAccuracy).toEqual([0.5, 0.5, 1]);
    expect(m.perClassCount).toEqual([2, 2, 2]);
    expect(m.balancedAccuracy).toBeCloseTo(2 / 3, 12);
    expect(m.geometricMeanRecall).toBeCloseTo(Math.cbrt(0.25), 12);
    expect(m.confusion).toEqual([
      [1, 1, 0],
      [0, 1, 1],
      [0, 0, 2],
    ]);
  });

  it('differs from top-1 on an imbalanced set and skips classes without samples', () => {
    // class 0: 4 samples all right; class 1: 1 sample wrong; class 2: no sample
    const m = classificationMetrics(Int32Array.from([0, 0, 0, 0, 0]), Int32Array.from([0, 0, 0, 0, 1]), 3);
    expect(m.top1).toBeCloseTo(0.8, 12);
    expect(m.perClassAccuracy).toEqual([1, 0, null]);
    expect(m.balancedAccuracy).toBeCloseTo(0.5, 12);
    // a zero recall makes the geometric mean exactly 0 (no floor)
    expect(m.geometricMeanRecall).toBe(0);
    expect(m.confusion).toBeUndefined();
  });

  it('rejects mismatched lengths, out-of-range classes and empty input', () => {
    expect(() => classificationMetrics(Int32Array.from([0]), Int32Array.from([0, 1]), 2)).toThrow(/labels/);
    expect(() => classificationMetrics(Int32Array.from([2]), Int32Array.from([0]), 2)).toThrow(/predictions\[0\] = 2/);
    expect(() => classificationMetrics(new Int32Array(0), new Int32Array(0), 2)).toThrow(/no samples/);
  });
});

describe('geometricMeanRecall', () => {
  it('is 0 with a zero recall unless a floor is given, and ignores nulls', () => {
    expect(geometricMeanRecall([0.5, 0, null])).toBe(0);
    expect(geometricMeanRecall([0.5, 0, null], 0.02)).toBeCloseTo(Math.sqrt(0.5 * 0.02), 12);
    expect(geometricMeanRecall([0.25, 1, null])).toBeCloseTo(0.5, 12);
    expect(geometricMeanRecall([null])).toBe(0);
  });

  it('does not underflow for many small recalls', () => {
    expect(geometricMeanRecall(new Array(400).fill(0.01))).toBeCloseTo(0.01, 10);
  });
});

describe('confusionCounts and argmaxRows', () => {
  it('counts rows = labels, columns = predictions', () => {
    expect(Array.from(confusionCounts(Int32Array.from([1, 1]), Int32Array.from([0, 1]), 2))).toEqual([0, 1, 0, 1]);
  });
  it('takes the first maximum on ties', () => {
    expect(Array.from(argmaxRows(Float32Array.from([0.2, 0.5, 0.5, 0.9, 0.05, 0.05]), 3))).toEqual([1, 0]);
  });
});

describe('expectedCalibrationError', () => {
  it('matches a hand computation with 5 bins', () => {
    // conf / correct: 0.85 yes (bin 4), 0.75 no and 0.65 yes (bin 3), 0.55 yes (bin 2)
    const probs = Float32Array.from([0.85, 0.15, 0.75, 0.25, 0.35, 0.65, 0.55, 0.45]);
    const labels = Int32Array.from([0, 1, 1, 0]);
    // bin4: 1/4*|1-0.85| ; bin3: 2/4*|0.5-0.7| ; bin2: 1/4*|1-0.55|  = 0.0375 + 0.1 + 0.1125
    expect(expectedCalibrationError(probs, labels, 2, 5)).toBeCloseTo(0.25, 6);
  });
  it('is 0 for a perfectly calibrated confident classifier', () => {
    expect(expectedCalibrationError(Float32Array.from([1, 0, 0, 1]), Int32Array.from([0, 1]), 2)).toBe(0);
  });
  it('checks the probability matrix shape', () => {
    expect(() => expectedCalibrationError(Float32Array.from([1, 0]), Int32Array.from([0, 1]), 2)).toThrow(/probs has 2/);
  });
});

describe('evaluateProbabilities', () => {
  it('combines argmax metrics and ECE', () => {
    const probs = Float32Array.from([0.85, 0.15, 0.75, 0.25, 0.35, 0.65, 0.55, 0.45]);
    const r = evaluateProbabilities(probs, Int32Array.from([0, 1, 1, 0]), 2, { eceBins: 5 });
    expect(r.metrics.perClassAccuracy).toEqual([1, 0.5]);
    expect(r.metrics.top1).toBe(0.75);
    expect(r.ece).toBeCloseTo(0.25, 6);
  });
});
