import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useCpuBackend, expectNoLeak } from '../helpers/tf-cpu.js';
import { testBackend } from '../helpers/cli.js';
import { driveStep, logitImages, logitModel, recordingAddOn, tinySyntheticRun, trainRandomSteps, useTrainingBackend } from '../helpers/ssl-learner.js';
import { composeAddOns, type AddOn, type TrainBatch } from '../../src/algorithms/index.js';
import { createPseudoLabel } from '../../src/algorithms/pseudo-label.js';
import { unlabeledRampupWeight } from '../../src/algorithms/unlabeled-rampup.js';
import { softmaxCrossEntropy } from '../../src/ops/cross-entropy.js';
import { resolveRunConfig, shippedPresetLayers } from '../../src/config/run-config.js';

beforeAll(useCpuBackend);

describe('unlabeledRampupWeight (daso cons_rampup_func)', () => {
  it('ramps linearly or exponentially over the given fraction of the run', () => {
    const linear = { unlabeledRampup: 0.4, unlabeledRampupShape: 'linear' } as const;
    // R = 0.4 · 100 = 40 steps: t/R = 0, 0.25, 1, capped at 1.
    expect(unlabeledRampupWeight(0, 100, linear)).toBe(0);
    expect(unlabeledRampupWeight(10, 100, linear)).toBeCloseTo(0.25, 12);
    expect(unlabeledRampupWeight(40, 100, linear)).toBe(1);
    expect(unlabeledRampupWeight(70, 100, linear)).toBe(1);
    const exp = { unlabeledRampup: 0.4, unlabeledRampupShape: 'exp' } as const;
    // exp(−5 (1 − 20/40)²) = exp(−1.25) = 0.2865048; at t = 0: exp(−5) = 0.0067379.
    expect(unlabeledRampupWeight(20, 100, exp)).toBeCloseTo(0.2865048, 6);
    expect(unlabeledRampupWeight(0, 100, exp)).toBeCloseTo(0.0067379, 6);
    expect(unlabeledRampupWeight(0, 100, { unlabeledRampup: 0, unlabeledRampupShape: 'linear' })).toBe(1);
  });
});

describe('PseudoLabel step (daso pseudo_label.py)', () => {
  const ce = (logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar => tf.mean(softmaxCrossEntropy(logits, labels)) as tf.Scalar;

  const opts = { threshold: 0.95, lambdaU: 1, unlabeledRampup: 0.4, unlabeledRampupShape: 'linear' } as const;
  const makeBatch = (): TrainBatch => ({
    labeledImages: logitImages([[2, 0]]),
    labeledLabels: tf.tensor1d([0], 'int32'),
    weakImages: logitImages([[3, 0], [0.2, 0]]),
    // Were the strong view trained, CE([−5, 5], 0) ≈ 10 would dominate the loss.
    strongImages: logitImages([[-5, 5], [-5, 5]]),
    unlabeledPositions: Int32Array.of(0, 1),
  });
  const ctx = { step: 10, iterations: 100, model: logitModel(2), ema: logitModel(2) };

  it('thresholds the one unlabeled view and trains that same view, λ_u ramped; the strong view is unused', () => {
    const learner = createPseudoLabel(opts, { labeledLoss: ce }, composeAddOns([]));
    const batch = makeBatch();
    const out = expectNoLeak(() => driveStep(learner, batch, ctx));
    // Labeled: CE([2, 0], 0) = log(1 + e^−2) = 0.1269280.
    // Unlabeled p = softmax([3, 0]) = [0.952574, ...] ≥ 0.95: confident, label 0;
    // softmax([0.2, 0])_0 = 0.549834 < 0.95: masked. L_u = log(1 + e^−3) / 2 (full batch) = 0.0242937.
    // Ramp-up at step 10 of 100 over 40% of the run: 10 / 40 = 0.25.
    // Total = 0.1269280 + 1 · 0.25 · 0.0242937 = 0.1330014.
    expect(out.terms.lossLabeled).toBeCloseTo(0.126928, 5);
    expect(out.terms.lossUnlabeled).toBeCloseTo(0.0242937, 5);
    expect(out.terms.unlabeledRampup).toBeCloseTo(0.25, 6);
    expect(out.terms.maskRate).toBeCloseTo(0.5, 6);
    expect(out.total).toBeCloseTo(0.1330014, 5);
    expect(out.sources).toEqual({ final: [0, 0], linear: [0, 0] });
    expect(out.mask).toEqual([1, 0]);
    tf.dispose(batch as unknown as tf.TensorContainer);
  });

  it('calls every point of the add-on chain, in the documented order', () => {
    const { addOn, calls } = recordingAddOn();
    const batch = makeBatch();
    expectNoLeak(() => driveStep(createPseudoLabel(opts, { labeledLoss: ce }, composeAddOns([addOn])), batch, ctx));
    expect(calls).toEqual([
      'prepare', 'adjustLabeledLogits', 'labeledWeights', 'adjustUnlabeledLogits', 'transformTarget', 'thresholds', 'unlabeledWeights',
      'lossTerms', 'pseudoLabelSources', 'afterStep', 'priorEstimate', 'state', 'restore',
    ]);
    tf.dispose(batch as unknown as tf.TensorContainer);
  });

  it('takes per-sample thresholds, unlabeled and labeled weights from add-ons', () => {
    const points: AddOn = {
      name: 'points',
      thresholds: (t) => tf.fill([t.shape[0]], 0.5) as tf.Tensor1D,
      unlabeledWeights: () => tf.tensor1d([1, 0.5]),
      labeledWeights: () => tf.tensor1d([3]),
    };
    const batch = makeBatch();
    const out = expectNoLeak(() => driveStep(createPseudoLabel(opts, { labeledLoss: ce }, composeAddOns([points])), batch, ctx));
    // τ = 0.5 for both: both confident, labels [0, 0]. CE([3, 0], 0) = 0.0485874, CE([0.2, 0], 0) =
    // log(1 + e^−0.2) = 0.5981389; L_u = (1 · 0.0485874 + 0.5 · 0.5981389) / 2 = 0.1738284.
    // Labeled weights [3]: mean(3 · 0.1269280) = 0.3807841.
    expect(out.mask).toEqual([1, 1]);
    expect(out.terms.lossUnlabeled).toBeCloseTo(0.1738284, 5);
    expect(out.terms.lossLabeled).toBeCloseTo(0.3807841, 5);
    tf.dispose(batch as unknown as tf.TensorContainer);
  });
});

describe('PseudoLabel through the trainer step', () => {
  beforeAll(useTrainingBackend);

  it('trains through the trainer step with a flat tensor count, and lowers the labeled loss on a fixed batch', () => {
    const { results, tensorsBefore, tensorsAfter } = trainRandomSteps({ algorithm: 'pseudo-label', with: [] }, { unlabeledRampup: 0 }, 12);
    expect(tensorsAfter).toBe(tensorsBefore);
    expect(Object.keys(results[0].terms).sort()).toEqual(['lossLabeled', 'lossUnlabeled', 'lr', 'maskRate', 'unlabeledRampup']);
    expect(Object.keys(results[0].pseudoLabels?.sources ?? {}).sort()).toEqual(['final', 'linear']);
    expect(results.at(-1)!.terms.lossLabeled).toBeLessThan(results[0].terms.lossLabeled);
  });

  it('composes with la; abc is refused, naming the missing weak and strong student views (it trains on the weak view alone)', () => {
    const { results, tensorsBefore, tensorsAfter } = trainRandomSteps({ algorithm: 'pseudo-label', with: ['la'] }, {}, 3);
    expect(tensorsAfter).toBe(tensorsBefore);
    expect(results.every((r) => Number.isFinite(r.terms.lossLabeled))).toBe(true);
    expect(() => resolveRunConfig({ algorithm: 'pseudo-label', with: ['abc'] }, [])).toThrow(/abc cannot be added to pseudo-label: abc needs a learner that runs the student on a weak and a strong view/);
  });

  it('composes with daso: a few steps train, the semantic source and L_align appear after the warm-up', () => {
    const config = resolveRunConfig({ algorithm: 'pseudo-label', with: ['daso'] }, []);
    expect(config.algorithm).toBe('pseudo-label');
    const { results, tensorsBefore, tensorsAfter } = trainRandomSteps({ algorithm: 'pseudo-label', with: ['daso'] }, { dasoWarmup: 3, dasoHistogramWindow: 2 }, 6);
    expect(tensorsAfter).toBe(tensorsBefore);
    expect(results[0].terms.lossAlign).toBeUndefined();
    const last = results.at(-1)!;
    expect(Object.keys(last.pseudoLabels?.sources ?? {}).sort()).toEqual(['final', 'linear', 'semantic']);
    expect(Number.isFinite(last.terms.lossAlign)).toBe(true);
    expect(results.every((r) => Number.isFinite(r.terms.lossLabeled) && Number.isFinite(r.terms.lossUnlabeled))).toBe(true);
  });
});

describe('PseudoLabel end to end on tiny data', () => {
  it('learns: the labeled loss falls far below its initial ln 4, balanced accuracy is far above chance, pseudo-labels are reported', async () => {
    const { result, train } = await tinySyntheticRun({ algorithm: 'pseudo-label', with: [] }, {}, await testBackend());
    expect(result.summary.algorithm).toBe('pseudo-label');
    expect(Object.keys(result.summary.pseudoLabels?.sources ?? {}).sort()).toEqual(['final', 'linear']);
    // At initialisation the labeled CE is about ln 4 = 1.386 (4 classes, near-uniform logits).
    expect(train.map((t) => t.step)).toEqual([50, 100]);
    expect(Math.max(...train.map((t) => t.lossLabeled))).toBeLessThan(Math.log(4) / 4);
    expect(train.every((t) => t.maskRate > 0)).toBe(true);
    // Chance is 25% on 4 classes.
    expect(result.summary.final.balancedAccuracy).toBeGreaterThan(0.6);
  });
});

describe('PseudoLabel preset', () => {
  it('is FixMatch\'s short schedule with DASO\'s μ = 1, and takes no MeanTeacher option', async () => {
    const own = resolveRunConfig('pseudo-label', await shippedPresetLayers({ algorithm: 'pseudo-label', with: [] })) as unknown as Record<string, unknown>;
    const fixmatch = resolveRunConfig('fixmatch', await shippedPresetLayers({ algorithm: 'fixmatch', with: [] })) as unknown as Record<string, unknown>;
    for (const key of ['iterations', 'evalEvery', 'net', 'lr', 'labeledBatch', 'plWindow', 'emaDecay', 'validationPerClass', 'checkpointEvery', 'threshold', 'lambdaU']) {
      expect(own[key]).toEqual(fixmatch[key]);
    }
    expect([own.unlabeledRatio, fixmatch.unlabeledRatio]).toEqual([1, 2]);
    expect(resolveRunConfig('pseudo-label', await shippedPresetLayers({ algorithm: 'pseudo-label', with: [] }, 'cifar10')).unlabeledRatio).toBe(1);
    expect(() => resolveRunConfig('pseudo-label', [{ source: 'test', values: { consistencyWeight: 3 } }])).toThrow(/does not apply to pseudo-label; it is an option of mean-teacher/);
  });
});
