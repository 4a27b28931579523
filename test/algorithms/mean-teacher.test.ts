import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useCpuBackend, expectNoLeak } from '../helpers/tf-cpu.js';
import { testBackend } from '../helpers/cli.js';
import { logitImages, logitModel, tinySyntheticRun, trainRandomSteps, useTrainingBackend } from '../helpers/ssl-learner.js';
import { composeAddOns, type TrainBatch } from '../../src/algorithms/index.js';
import { createMeanTeacher, softmaxMseLoss } from '../../src/algorithms/mean-teacher.js';
import { softmaxCrossEntropy } from '../../src/ops/cross-entropy.js';

beforeAll(useCpuBackend);

const LN3 = Math.log(3);

describe('softmaxMseLoss (daso MSELoss on softmaxes, mean over B·C)', () => {
  it('matches hand values, with and without per-sample weights', () => {
    expectNoLeak(() => {
      // softmax([ln 3, 0]) = [0.75, 0.25] against [0.25, 0.75]: 0.5² + 0.5² = 0.5;
      // softmax([0, 0]) = [0.5, 0.5] against [0.75, 0.25]: 0.25² + 0.25² = 0.125.
      const logits = tf.tensor2d([[LN3, 0], [0, 0]]);
      const target = tf.tensor2d([[0.25, 0.75], [0.75, 0.25]]);
      const w = tf.tensor1d([2, 0]);
      // (0.5 + 0.125) / (2 · 2) = 0.15625; weighted (2 · 0.5 + 0 · 0.125) / 4 = 0.25.
      const plain = softmaxMseLoss(logits, target);
      const weighted = softmaxMseLoss(logits, target, w);
      expect(plain.dataSync()[0]).toBeCloseTo(0.15625, 6);
      expect(weighted.dataSync()[0]).toBeCloseTo(0.25, 6);
      tf.dispose([logits, target, w, plain, weighted]);
    });
  });
});

describe('MeanTeacher step (daso mean_teacher.py)', () => {
  const ce = (logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar => tf.mean(softmaxCrossEntropy(logits, labels)) as tf.Scalar;

  it('the EMA teacher on the weak view is the target of the student on the other view; weight 50, ramped; no mask', () => {
    const learner = createMeanTeacher({ consistencyWeight: 50, unlabeledRampup: 0.4, unlabeledRampupShape: 'linear' }, { labeledLoss: ce }, composeAddOns([]));
    const batch: TrainBatch = {
      labeledImages: logitImages([[2, 0]]),
      labeledLabels: tf.tensor1d([0], 'int32'),
      // The EMA stub doubles its input: teacher logits [0, ln 3] and [ln 3, 0].
      weakImages: logitImages([[0, LN3 / 2], [LN3 / 2, 0]]),
      strongImages: logitImages([[LN3, 0], [0, 0]]),
      unlabeledPositions: Int32Array.of(0, 1),
    };
    const ctx = { step: 20, iterations: 100, model: logitModel(2), ema: logitModel(2, 2) };
    const out = expectNoLeak(() =>
      tf.tidy(() => {
        const l = learner.loss(batch, ctx);
        const read = (t: tf.Tensor): number[] => Array.from(t.dataSync());
        return {
          total: read(l.total)[0],
          terms: Object.fromEntries(Object.entries(l.terms).map(([k, v]) => [k, read(v)[0]])),
          final: read(l.pseudoLabels!.sources.final),
          mask: read(l.pseudoLabels!.mask),
        };
      }),
    );
    // Labeled: CE([2, 0], 0) = log(1 + e^−2) = 0.1269280.
    // Teacher softmax: [0.25, 0.75], [0.75, 0.25]; student softmax [0.75, 0.25], [0.5, 0.5]:
    // MSE = (0.5 + 0.125) / 4 = 0.15625 (as above). Ramp-up at step 20 of 100: 20 / 40 = 0.5.
    // Total = 0.1269280 + 50 · 0.5 · 0.15625 = 0.1269280 + 3.90625 = 4.0331780.
    expect(out.terms.lossLabeled).toBeCloseTo(0.126928, 5);
    expect(out.terms.lossUnlabeled).toBeCloseTo(0.15625, 6);
    expect(out.terms.unlabeledRampup).toBeCloseTo(0.5, 6);
    expect(out.total).toBeCloseTo(4.033178, 4);
    expect(out.final).toEqual([1, 0]);
    expect(out.mask).toEqual([1, 1]);
    expect(out.terms.maskRate).toBe(1);
    tf.dispose(batch as unknown as tf.TensorContainer);
  });
});

describe('MeanTeacher through the trainer step', () => {
  beforeAll(useTrainingBackend);

  it('trains with a flat tensor count and lowers the labeled loss on a fixed batch', () => {
    const { results, tensorsBefore, tensorsAfter } = trainRandomSteps({ algorithm: 'mean-teacher', with: [] }, { unlabeledRampup: 0 }, 12);
    expect(tensorsAfter).toBe(tensorsBefore);
    expect(Object.keys(results[0].terms).sort()).toEqual(['lossLabeled', 'lossUnlabeled', 'lr', 'maskRate', 'unlabeledRampup']);
    expect(Object.keys(results[0].pseudoLabels?.sources ?? {}).sort()).toEqual(['final', 'linear']);
    // EMA decay at step 0 is 0: the teacher equals the student of step 0, so the first
    // consistency is that of one model on two views; it stays finite and small.
    expect(results.every((r) => Number.isFinite(r.terms.lossUnlabeled) && r.terms.lossUnlabeled < 0.5)).toBe(true);
    expect(results.at(-1)!.terms.lossLabeled).toBeLessThan(results[0].terms.lossLabeled);
  });

  it('composes with daso: a few steps train, the semantic source and L_align appear after the warm-up', () => {
    const { results, tensorsBefore, tensorsAfter } = trainRandomSteps({ algorithm: 'mean-teacher', with: ['daso'] }, { dasoWarmup: 3, dasoHistogramWindow: 2 }, 6);
    expect(tensorsAfter).toBe(tensorsBefore);
    expect(results[0].terms.lossAlign).toBeUndefined();
    const last = results.at(-1)!;
    expect(Object.keys(last.pseudoLabels?.sources ?? {}).sort()).toEqual(['final', 'linear', 'semantic']);
    expect(Number.isFinite(last.terms.lossAlign)).toBe(true);
    expect(results.every((r) => Number.isFinite(r.terms.lossLabeled) && Number.isFinite(r.terms.lossUnlabeled))).toBe(true);
  });
});

describe('MeanTeacher end to end on tiny data', () => {
  it('learns: the labeled loss falls far below its initial ln 4, balanced accuracy is far above chance', async () => {
    const { result, train } = await tinySyntheticRun({ algorithm: 'mean-teacher', with: [] }, { unlabeledRatio: 1 }, await testBackend());
    expect(result.summary.algorithm).toBe('mean-teacher');
    expect(Object.keys(result.summary.pseudoLabels?.sources ?? {}).sort()).toEqual(['final', 'linear']);
    expect(train.map((t) => t.step)).toEqual([50, 100]);
    expect(Math.max(...train.map((t) => t.lossLabeled))).toBeLessThan(Math.log(4) / 4);
    // Chance is 25% on 4 classes.
    expect(result.summary.final.balancedAccuracy).toBeGreaterThan(0.6);
  });
});
