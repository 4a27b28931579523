import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useCpuBackend, expectNoLeak } from '../helpers/tf-cpu.js';
import { testBackend } from '../helpers/cli.js';
import { driveStep, logitImages, logitModel, recordingAddOn, tinySyntheticRun, trainRandomSteps, useTrainingBackend } from '../helpers/ssl-learner.js';
import { composeAddOns, defineAddOn, MethodRegistry, type TrainBatch } from '../../src/algorithms/index.js';
import { fixmatchMethod } from '../../src/algorithms/fixmatch.js';
import { createFlexMatch, flexmatchMethod } from '../../src/algorithms/flexmatch/flexmatch.js';
import { CurriculumThresholds, convexMapping, learningEffects } from '../../src/algorithms/flexmatch/curriculum-thresholds.js';
import { softmaxCrossEntropy } from '../../src/ops/cross-entropy.js';
import { resolveRunConfig, shippedPresetLayers } from '../../src/config/run-config.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { checkpointPath } from '../../src/train/run-checkpoint.js';
import { TrainingInterrupted } from '../../src/train/interrupted.js';
import { runExperiment } from '../../src/run/run-experiment.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';

beforeAll(useCpuBackend);

const close = (got: ArrayLike<number>, want: number[], digits = 6): void => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, digits));
};

describe('FlexMatch per-class thresholds (USB FlexMatchThresholdingHook)', () => {
  it('maps learning effects by M(β) = β / (2 − β)', () => {
    // M(0) = 0, M(0.5) = 0.5 / 1.5 = 1/3, M(1) = 1.
    expect(convexMapping(0)).toBe(0);
    expect(convexMapping(0.5)).toBeCloseTo(1 / 3, 12);
    expect(convexMapping(1)).toBe(1);
  });

  it('gives τ·M(β_c) on a small hand-computed case, with and without the warm-up', () => {
    // 12 unlabeled samples, 3 classes; 7 confident so far: four of class 0, two of class 1, one of
    // class 2; 5 never selected. σ = [4, 2, 1], σ_unused = 5.
    const warm = new CurriculumThresholds(3, 12, true);
    const cold = new CurriculumThresholds(3, 12, false);
    // Before anything is selected every β is 0, so every threshold is 0: all samples count.
    close(warm.classThresholds(0.95), [0, 0, 0]);
    const positions = Int32Array.of(0, 1, 2, 3, 4, 5, 6, 7);
    const labels = Int32Array.of(0, 0, 0, 0, 1, 1, 2, 2);
    const selected = [1, 1, 1, 1, 1, 1, 1, 0];
    warm.record(positions, labels, selected);
    cold.record(positions, labels, selected);
    // Warm-up: β_c = σ_c / max(σ_unused, max σ) = [4, 2, 1] / 5 = [0.8, 0.4, 0.2];
    // M(β) = [0.8/1.2, 0.4/1.6, 0.2/1.8] = [0.666667, 0.25, 0.111111];
    // τ·M = 0.95 · M = [0.633333, 0.2375, 0.105556].
    close(warm.learningEffects(), [0.8, 0.4, 0.2]);
    close(warm.classThresholds(0.95), [0.633333, 0.2375, 0.105556]);
    // No warm-up: β_c = σ_c / max σ = [4, 2, 1] / 4 = [1, 0.5, 0.25]; M = [1, 1/3, 1/7];
    // τ·M = [0.95, 0.316667, 0.135714].
    close(cold.learningEffects(), [1, 0.5, 0.25]);
    close(cold.classThresholds(0.95), [0.95, 0.316667, 0.135714]);
    // Position 0 re-selected as class 2 moves one count: σ = [3, 2, 2] -> warm β = [0.6, 0.4, 0.4].
    warm.record(Int32Array.of(0), Int32Array.of(2), [1]);
    close(warm.learningEffects(), [0.6, 0.4, 0.4]);
    expect(warm.selected[0]).toBe(2);
    expect(warm.selected[7]).toBe(-1);
  });

  it('keeps β when one value holds every sample (USB: max(Counter) < N, else no update)', () => {
    const effects = Float32Array.of(0.3, 0.7);
    // All unused: counts [2, 0, 0]; all class 1: counts [0, 0, 2].
    close(learningEffects(Int32Array.of(2, 0, 0), true, effects), [0.3, 0.7]);
    close(learningEffects(Int32Array.of(0, 0, 2), false, effects), [0.3, 0.7]);
    // One unused, one class 0: [1, 1, 0] / max(1, 1) = [1, 0].
    close(learningEffects(Int32Array.of(1, 1, 0), true, effects), [1, 0]);
  });

  it('checkpoints its per-sample state exactly and refuses a state of another split', () => {
    const a = new CurriculumThresholds(3, 12, true);
    a.record(Int32Array.of(3, 9), Int32Array.of(1, 2), [1, 1]);
    const b = new CurriculumThresholds(3, 12, true);
    b.restore(a.state());
    expect(Array.from(b.selected)).toEqual(Array.from(a.selected));
    expect(Array.from(b.learningEffects())).toEqual(Array.from(a.learningEffects()));
    // The restored counts go on as the original's.
    a.record(Int32Array.of(3), Int32Array.of(0), [1]);
    b.record(Int32Array.of(3), Int32Array.of(0), [1]);
    expect(Array.from(b.learningEffects())).toEqual(Array.from(a.learningEffects()));
    expect(() => new CurriculumThresholds(3, 11, true).restore(a.state())).toThrow(/Int32Array of 11/);
  });
});

describe('FlexMatch step', () => {
  const ce = (logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar => tf.mean(softmaxCrossEntropy(logits, labels)) as tf.Scalar;
  const makeBatch = (): TrainBatch => ({
    labeledImages: logitImages([[0, 0, 0]]),
    labeledLabels: tf.tensor1d([0], 'int32'),
    // Confidences max softmax: e^5/(e^5+2) = 0.986701 (class 0), e^4/(e^4+2) = 0.964662 (class 1),
    // e/(e+2) = 0.576117 (class 0), e^0.5/(e^0.5+2) = 0.451862 (class 2).
    weakImages: logitImages([[5, 0, 0], [0, 4, 0], [1, 0, 0], [0, 0, 0.5]]),
    // Uniform strong logits: CE = ln 3 = 1.098612 for every sample.
    strongImages: logitImages([[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]),
    unlabeledPositions: Int32Array.of(0, 1, 2, 3),
  });
  const ctx = (step: number) => ({ step, iterations: 10, model: logitModel(3), ema: logitModel(3) });
  const create = (warmup: boolean, chain = composeAddOns([])) =>
    createFlexMatch({ threshold: 0.95, lambdaU: 1, flexmatchThresholdWarmup: warmup }, { labeledLoss: ce, numClasses: 3, numUnlabeled: 12 }, chain);

  it('masks by the thresholds of before the step, then records the fixed-τ selections at their positions', () => {
    const learner = create(false);
    const batch = makeBatch();
    // Step 0: β = 0, thresholds 0: all four count. L_u = 4 · ln 3 / 4 = 1.098612.
    const first = expectNoLeak(() => driveStep(learner, batch, ctx(0)));
    expect(first.mask).toEqual([1, 1, 1, 1]);
    expect(first.terms.lossUnlabeled).toBeCloseTo(Math.log(3), 5);
    expect(first.terms.thresholdMean).toBe(0);
    // Selected (max p ≥ 0.95): position 0 as class 0, position 1 as class 1. σ = [1, 1, 0] of 12.
    // No warm-up: β = [1, 1, 0] / 1 -> thresholds 0.95 · [1, 1, 0] = [0.95, 0.95, 0].
    // Step 1: 0.986701 ≥ 0.95 in; 0.964662 ≥ 0.95 in; 0.576117 < 0.95 (class 0) out;
    // 0.451862 ≥ 0 (class 2) in. L_u = 3 · ln 3 / 4 = 0.823959; mean threshold (3 · 0.95) / 4 = 0.7125.
    const second = expectNoLeak(() => driveStep(learner, batch, ctx(1)));
    expect(second.mask).toEqual([1, 1, 0, 1]);
    expect(second.terms.lossUnlabeled).toBeCloseTo(0.823959, 5);
    expect(second.terms.thresholdMean).toBeCloseTo(0.7125, 6);
    expect(second.terms.lossLabeled).toBeCloseTo(Math.log(3), 5);
    expect(second.total).toBeCloseTo(Math.log(3) + 0.823959, 5);
    // With the warm-up, the 10 unused samples dominate: β = [1, 1, 0] / 10 = [0.1, 0.1, 0],
    // thresholds 0.95 · 0.1 / 1.9 = 0.05 for classes 0 and 1, 0 for class 2: all four count again;
    // mean threshold (3 · 0.05 + 0) / 4 = 0.0375.
    const warm = create(true);
    driveStep(warm, batch, ctx(0));
    const warmSecond = driveStep(warm, batch, ctx(1));
    expect(warmSecond.mask).toEqual([1, 1, 1, 1]);
    expect(warmSecond.terms.thresholdMean).toBeCloseTo(0.0375, 6);
    tf.dispose(batch as unknown as tf.TensorContainer);
  });

  it('resumes bit-exactly: a learner restored from the state after step 0 gives step 1 the same numbers', () => {
    const batch = makeBatch();
    const original = create(false);
    driveStep(original, batch, ctx(0));
    const saved = original.state();
    expect(Object.keys(saved.arrays).sort()).toEqual(['flexmatch/learningEffects', 'flexmatch/selectedLabel']);
    expect(Array.from(saved.arrays['flexmatch/selectedLabel']).slice(0, 4)).toEqual([0, 1, -1, -1]);
    const resumed = create(false);
    resumed.restore(saved);
    expect(driveStep(resumed, batch, ctx(1))).toEqual(driveStep(original, batch, ctx(1)));
    tf.dispose(batch as unknown as tf.TensorContainer);
  });

  it('calls every point of the add-on chain but thresholds, in the documented order; the registry refuses threshold add-ons', () => {
    const { addOn, calls } = recordingAddOn();
    const batch = makeBatch();
    expectNoLeak(() => driveStep(create(true, composeAddOns([addOn])), batch, ctx(0)));
    expect(calls).toEqual([
      'prepare', 'adjustLabeledLogits', 'labeledWeights', 'adjustUnlabeledLogits', 'transformTarget', 'unlabeledWeights',
      'lossTerms', 'pseudoLabelSources', 'afterStep', 'priorEstimate', 'state', 'restore',
    ]);
    tf.dispose(batch as unknown as tf.TensorContainer);
    const needy = defineAddOn({
      name: 'needy', kind: 'add-on', summary: '-', paper: '-', code: '-', defaultBase: 'fixmatch', requires: ['confidence-threshold'], sections: [],
      create: () => ({ name: 'needy' }),
    });
    const registry = new MethodRegistry([fixmatchMethod, flexmatchMethod, needy]);
    expect(() => registry.assertComposable({ algorithm: 'flexmatch', with: ['needy'] })).toThrow(/needy cannot be added to flexmatch/);
  });
});

describe('FlexMatch through the trainer step', () => {
  beforeAll(useTrainingBackend);

  it('trains with a flat tensor count and lowers the labeled loss on a fixed batch', () => {
    const { results, tensorsBefore, tensorsAfter } = trainRandomSteps({ algorithm: 'flexmatch', with: [] }, {}, 12);
    expect(tensorsAfter).toBe(tensorsBefore);
    expect(Object.keys(results[0].terms).sort()).toEqual(['lossLabeled', 'lossUnlabeled', 'lr', 'maskRate', 'thresholdMean']);
    expect(Object.keys(results[0].pseudoLabels?.sources ?? {}).sort()).toEqual(['final', 'linear']);
    // Step 0 has every threshold at 0: the whole unlabeled batch counts.
    expect(results[0].terms.maskRate).toBe(1);
    expect(results.at(-1)!.terms.lossLabeled).toBeLessThan(results[0].terms.lossLabeled);
  });

  it('composes with la and abc: a few steps train, the balanced head\'s loss and source appear', () => {
    const { results, tensorsBefore, tensorsAfter } = trainRandomSteps({ algorithm: 'flexmatch', with: ['la', 'abc'] }, {}, 3);
    expect(tensorsAfter).toBe(tensorsBefore);
    expect(Object.keys(results[0].pseudoLabels?.sources ?? {}).sort()).toEqual(['abc', 'final', 'linear']);
    expect(results.every((r) => Number.isFinite(r.terms.lossAbc) && Number.isFinite(r.terms.lossLabeled))).toBe(true);
  });

  it('composes with daso: a few steps train, the semantic source and L_align appear after the warm-up', () => {
    const { results, tensorsBefore, tensorsAfter } = trainRandomSteps({ algorithm: 'flexmatch', with: ['daso'] }, { dasoWarmup: 3, dasoHistogramWindow: 2 }, 6);
    expect(tensorsAfter).toBe(tensorsBefore);
    expect(results[0].terms.lossAlign).toBeUndefined();
    const last = results.at(-1)!;
    expect(Object.keys(last.pseudoLabels?.sources ?? {}).sort()).toEqual(['final', 'linear', 'semantic']);
    expect(Number.isFinite(last.terms.lossAlign)).toBe(true);
    expect(results.every((r) => Number.isFinite(r.terms.lossLabeled) && Number.isFinite(r.terms.lossUnlabeled))).toBe(true);
  });
});

describe('FlexMatch end to end on tiny data', () => {
  it('learns: the labeled loss falls far below its initial ln 4, balanced accuracy is far above chance, the curriculum is checkpointed', async () => {
    const { result, train } = await tinySyntheticRun({ algorithm: 'flexmatch', with: [] }, {}, await testBackend());
    expect(result.summary.algorithm).toBe('flexmatch');
    expect(train.map((t) => t.step)).toEqual([50, 100]);
    expect(Math.max(...train.map((t) => t.lossLabeled))).toBeLessThan(Math.log(4) / 4);
    // The thresholds rose from 0 as classes were learned.
    expect(train.at(-1)!.thresholdMean).toBeGreaterThan(0);
    // Chance is 25% on 4 classes.
    expect(result.summary.final.balancedAccuracy).toBeGreaterThan(0.6);
    const selected = (await loadCheckpoint(checkpointPath(result.runDir))).arrays['algorithm/flexmatch/selectedLabel'];
    // γ_u = 1, M_1 = 60: 240 unlabeled positions, most of them selected by now.
    expect(selected).toBeInstanceOf(Int32Array);
    expect(selected.length).toBe(240);
    expect(Array.from(selected).filter((c) => c >= 0).length).toBeGreaterThan(120);
  });
});

describe('FlexMatch resume', () => {
  it('a run interrupted after step 10 and resumed equals the uninterrupted run (curriculum state included)', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-flexmatch-resume-'));
    const dataset = syntheticDataset();
    const backend = await testBackend();
    const config = (runId: string) =>
      resolveRunConfig('flexmatch', [
        {
          source: 'test',
          values: {
            net: 'cnn-small', backend, n1: 40, m1: 60, gammaL: 4, gammaU: 1, validationPerClass: 10, iterations: 20, evalEvery: 10,
            checkpointEvery: 10, labeledBatch: 16, unlabeledRatio: 1, plWindow: 10, workers: 0, progress: 'none', outDir, selection: 'last', runId,
          },
        },
      ]);
    const quiet = { log: () => {}, dataset };
    const full = await runExperiment(config('full'), quiet);
    const cut = config('cut');
    const interrupt = (step: number): void => {
      if (step === 9) throw new TrainingInterrupted(step);
    };
    await expect(runExperiment(cut, { ...quiet, onStep: interrupt })).rejects.toThrow(TrainingInterrupted);
    const resumed = await runExperiment(cut, { ...quiet, resumeDir: path.join(outDir, 'cut') });
    expect(resumed.summary.final).toEqual(full.summary.final);
    expect(resumed.summary.pseudoLabels).toEqual(full.summary.pseudoLabels);
    const selected = async (id: string) => Array.from((await loadCheckpoint(checkpointPath(path.join(outDir, id)))).arrays['algorithm/flexmatch/selectedLabel']);
    expect(await selected('cut')).toEqual(await selected('full'));
  });
});

describe('FlexMatch preset', () => {
  it('is FixMatch\'s short schedule value for value', async () => {
    const own = resolveRunConfig('flexmatch', await shippedPresetLayers({ algorithm: 'flexmatch', with: [] })) as unknown as Record<string, unknown>;
    const fixmatch = resolveRunConfig('fixmatch', await shippedPresetLayers({ algorithm: 'fixmatch', with: [] })) as unknown as Record<string, unknown>;
    for (const key of ['iterations', 'evalEvery', 'net', 'lr', 'labeledBatch', 'unlabeledRatio', 'plWindow', 'emaDecay', 'validationPerClass', 'checkpointEvery', 'threshold', 'lambdaU']) {
      expect(own[key]).toEqual(fixmatch[key]);
    }
    expect(own.flexmatchThresholdWarmup).toBe(true);
    const c10 = resolveRunConfig('flexmatch', await shippedPresetLayers({ algorithm: 'flexmatch', with: [] }, 'cifar10')) as unknown as Record<string, unknown>;
    expect([c10.net, c10.iterations, c10.unlabeledRatio]).toEqual(['wrn-28-2', 250_000, 2]);
  });
});
