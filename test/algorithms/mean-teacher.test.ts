import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useCpuBackend, expectNoLeak } from '../helpers/tf-cpu.js';
import { testBackend } from '../helpers/cli.js';
import { driveStep, logitImages, logitModel, recordingAddOn, tinySyntheticRun, trainRandomSteps, useTrainingBackend } from '../helpers/ssl-learner.js';
import { composeAddOns, defineAddOn, MethodRegistry, registry, type AddOn, type TrainBatch } from '../../src/algorithms/index.js';
import { fixmatchMethod } from '../../src/algorithms/fixmatch.js';
import { createMeanTeacher, meanTeacherMethod, softmaxMseLoss } from '../../src/algorithms/mean-teacher.js';
import { softmaxCrossEntropy } from '../../src/ops/cross-entropy.js';
import { resolveRunConfig, shippedPresetLayers } from '../../src/config/run-config.js';

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

  const opts = { consistencyWeight: 50, unlabeledRampup: 0.4, unlabeledRampupShape: 'linear' } as const;
  const makeBatch = (): TrainBatch => ({
    labeledImages: logitImages([[2, 0]]),
    labeledLabels: tf.tensor1d([0], 'int32'),
    // The EMA stub doubles its input: teacher logits [0, ln 3] and [ln 3, 0].
    weakImages: logitImages([[0, LN3 / 2], [LN3 / 2, 0]]),
    // The student's view: a second weak view (DASO's `ul_student`); no strong view.
    extraWeakImages: [logitImages([[LN3, 0], [0, 0]])],
    strongImages: tf.zeros([0, 1, 1, 2]) as tf.Tensor4D,
    unlabeledPositions: Int32Array.of(0, 1),
  });
  const ctx = { step: 20, iterations: 100, model: logitModel(2), ema: logitModel(2, 2) };

  it('asks for two weak views and no strong one, as DASO\'s (ul_student, ul_teacher)', () => {
    expect(registry.learnerHooks(resolveRunConfig({ algorithm: 'mean-teacher', with: [] }, [])).unlabeledViews).toEqual({ weak: 2, strong: 0 });
  });

  it('the EMA teacher on the first weak view is the target of the student on the second; weight 50, ramped; no mask', () => {
    const learner = createMeanTeacher(opts, { labeledLoss: ce }, composeAddOns([]));
    const batch = makeBatch();
    const out = expectNoLeak(() => driveStep(learner, batch, ctx));
    // Labeled: CE([2, 0], 0) = log(1 + e^−2) = 0.1269280.
    // Teacher softmax: [0.25, 0.75], [0.75, 0.25]; student softmax [0.75, 0.25], [0.5, 0.5]:
    // MSE = (0.5 + 0.125) / 4 = 0.15625 (as above). Ramp-up at step 20 of 100: 20 / 40 = 0.5.
    // Total = 0.1269280 + 50 · 0.5 · 0.15625 = 0.1269280 + 3.90625 = 4.0331780.
    expect(out.terms.lossLabeled).toBeCloseTo(0.126928, 5);
    expect(out.terms.lossUnlabeled).toBeCloseTo(0.15625, 6);
    expect(out.terms.unlabeledRampup).toBeCloseTo(0.5, 6);
    expect(out.total).toBeCloseTo(4.033178, 4);
    expect(out.sources).toEqual({ final: [1, 0], linear: [1, 0] });
    expect(out.mask).toEqual([1, 1]);
    expect(out.terms.maskRate).toBe(1);
    tf.dispose(batch as unknown as tf.TensorContainer);
  });

  it('calls every point of the add-on chain but thresholds, in the documented order', () => {
    const { addOn, calls } = recordingAddOn();
    const batch = makeBatch();
    expectNoLeak(() => driveStep(createMeanTeacher(opts, { labeledLoss: ce }, composeAddOns([addOn])), batch, ctx));
    expect(calls).toEqual([
      'prepare', 'adjustLabeledLogits', 'labeledWeights', 'adjustUnlabeledLogits', 'transformTarget', 'unlabeledWeights',
      'lossTerms', 'pseudoLabelSources', 'afterStep', 'priorEstimate', 'state', 'restore',
    ]);
    tf.dispose(batch as unknown as tf.TensorContainer);
  });

  it('weights the consistency per sample from add-ons; the registry refuses an add-on that sets thresholds', () => {
    const weights: AddOn = { name: 'weights', unlabeledWeights: () => tf.tensor1d([2, 0]) };
    const batch = makeBatch();
    const out = expectNoLeak(() => driveStep(createMeanTeacher(opts, { labeledLoss: ce }, composeAddOns([weights])), batch, ctx));
    // (2 · 0.5 + 0 · 0.125) / 4 = 0.25.
    expect(out.terms.lossUnlabeled).toBeCloseTo(0.25, 6);
    tf.dispose(batch as unknown as tf.TensorContainer);
    const needy = defineAddOn({
      name: 'needy', kind: 'add-on', summary: '-', paper: '-', code: '-', defaultBase: 'fixmatch', requires: ['confidence-threshold'], sections: [],
      create: () => ({ name: 'needy' }),
    });
    const registry = new MethodRegistry([fixmatchMethod, meanTeacherMethod, needy]);
    expect(() => registry.assertComposable({ algorithm: 'mean-teacher', with: ['needy'] })).toThrow(
      /needy cannot be added to mean-teacher: needy needs a learner that masks its pseudo-labels by a confidence threshold/,
    );
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

  it('composes with la; abc is refused, naming the missing weak and strong student views (its weak side is the teacher view)', () => {
    const { results, tensorsBefore, tensorsAfter } = trainRandomSteps({ algorithm: 'mean-teacher', with: ['la'] }, {}, 3);
    expect(tensorsAfter).toBe(tensorsBefore);
    expect(results.every((r) => Number.isFinite(r.terms.lossLabeled))).toBe(true);
    expect(() => resolveRunConfig({ algorithm: 'mean-teacher', with: ['abc'] }, [])).toThrow(/abc cannot be added to mean-teacher: abc needs a learner that runs the student on a weak and a strong view/);
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
    const { result, train } = await tinySyntheticRun({ algorithm: 'mean-teacher', with: [] }, {}, await testBackend());
    expect(result.summary.algorithm).toBe('mean-teacher');
    expect(Object.keys(result.summary.pseudoLabels?.sources ?? {}).sort()).toEqual(['final', 'linear']);
    expect(train.map((t) => t.step)).toEqual([50, 100]);
    expect(Math.max(...train.map((t) => t.lossLabeled))).toBeLessThan(Math.log(4) / 4);
    // Chance is 25% on 4 classes.
    expect(result.summary.final.balancedAccuracy).toBeGreaterThan(0.6);
  });
});

describe('MeanTeacher preset', () => {
  it('is FixMatch\'s short schedule with DASO\'s μ = 1, and takes no threshold', async () => {
    const own = resolveRunConfig('mean-teacher', await shippedPresetLayers({ algorithm: 'mean-teacher', with: [] })) as unknown as Record<string, unknown>;
    const fixmatch = resolveRunConfig('fixmatch', await shippedPresetLayers({ algorithm: 'fixmatch', with: [] })) as unknown as Record<string, unknown>;
    for (const key of ['iterations', 'evalEvery', 'net', 'lr', 'labeledBatch', 'plWindow', 'emaDecay', 'validationPerClass', 'checkpointEvery']) {
      expect(own[key]).toEqual(fixmatch[key]);
    }
    expect([own.unlabeledRatio, own.consistencyWeight, own.unlabeledRampup]).toEqual([1, 50, 0.4]);
    expect(() => resolveRunConfig('mean-teacher', [{ source: 'test', values: { threshold: 0.9 } }])).toThrow(/does not apply to mean-teacher/);
  });
});
