/** CCL: energy selection, the kernel-density losses, the prior re-estimation, and the learner end to end. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { continuousContrastiveLoss, energyScore, energySelection, propagatedDensityPosterior, sharpen } from '../../src/algorithms/ccl/kde.js';
import { cclPriorUpdate, cclUnlabeledAdjustment } from '../../src/algorithms/ccl/ccl.js';
import { resolveRunConfig } from '../../src/config/run-config.js';
import { runExperiment } from '../../src/run/run-experiment.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { expectNoLeak } from '../helpers/tf-cpu.js';
import { checkpointed, learnerHarness, tensorsOverSteps, expectTwinRestores, tmpRuns, useTestBackend } from '../helpers/learner-harness.js';

let backend: 'torch' | 'cpu' = 'cpu';
beforeAll(async () => {
  backend = await useTestBackend();
});

const round = (xs: ArrayLike<number>, d = 6): number[] => Array.from(xs, (x) => Number(x.toFixed(d)));

describe('CCL energy selection', () => {
  it('energy = −logsumexp(z); a sample enters at energy ≤ −8.75', () => {
    // z = [2, 0]: −ln(e² + 1) = −2.126928 (not selected); z = [10, 0]: −ln(e^10 + 1) = −10.000045 (selected).
    expectNoLeak(() =>
      tf.tidy(() => {
        const z = tf.tensor2d([[2, 0], [10, 0]]);
        const e = energyScore(z).dataSync();
        expect(e[0]).toBeCloseTo(-2.126928, 5);
        expect(e[1]).toBeCloseTo(-10.000045, 4);
        expect(Array.from(energySelection(z, -8.75).dataSync())).toEqual([0, 1]);
      }),
    );
  });
});

describe('CCL kernel-density losses', () => {
  // Four unit features at T = 1: f0 = f2 = [1, 0] (class 0), f1 = [0, 1] and f3 = [0.6, 0.8] (class 1).
  const features = [[1, 0], [0, 1], [1, 0], [0.6, 0.8]];
  const labels = [[1, 0], [0, 1], [1, 0], [0, 1]];

  it('class-balanced continuous contrastive loss by hand', () => {
    // Kernels exp(f_i·f_j), diagonal dropped: K01 = 1, K02 = e, K03 = e^0.6, K12 = 1, K13 = e^0.8, K23 = e^0.6.
    // Class mass without the row itself: class-0 rows [1, 2], class-1 rows [2, 1].
    // Row 0: logits [log(K02/1), log((K01 + K03)/2)] = [1, log(2.822119/2)] = [1, 0.344341]; CE = ln(1 + e^(0.344341−1)) = 0.418118.
    // Row 1: [log((K10 + K12)/2), log(K13/1)] = [0, 0.8]; CE = ln(1 + e^−0.8) = 0.371101.
    // Row 2: as row 0, 0.418118. Row 3: [log((K30 + K32)/2), log(K31)] = [0.6, 0.8]; CE = ln(1 + e^−0.2) = 0.598139.
    // Mean (2·0.418118 + 0.371101 + 0.598139) / 4 = 0.451369.
    expectNoLeak(() =>
      tf.tidy(() => {
        const loss = continuousContrastiveLoss(tf.tensor2d(features), tf.tensor2d(labels), 0, tf.ones([4]) as tf.Tensor1D, 1);
        expect(loss.dataSync()[0]).toBeCloseTo(0.451369, 5);
        // A fifth, unselected row (weight 0) changes nothing: neither anchor nor support, as the official gather.
        const withUnselected = continuousContrastiveLoss(tf.tensor2d([...features, [0.8, 0.6]]), tf.tensor2d([...labels, [0.5, 0.5]]), 0, tf.tensor1d([1, 1, 1, 1, 0]), 1);
        expect(withUnselected.dataSync()[0]).toBeCloseTo(0.451369, 5);
        // Rows before the first anchor (the class centres) are support only: anchors 1–3 give (0.371101 + 0.418118 + 0.598139) / 3 = 0.462453.
        expect(continuousContrastiveLoss(tf.tensor2d(features), tf.tensor2d(labels), 1, tf.ones([4]) as tf.Tensor1D, 1).dataSync()[0]).toBeCloseTo(0.462453, 5);
      }),
    );
  });

  it('density posterior: class-balanced kernel means, then label propagation (I − αS)^−1 (1 − α) p', () => {
    // Support f0, f1, f2 above; unlabeled u0 = [0.6, 0.8], u1 = [1, 0]; T = 1, α = 0.2.
    // u0: class 0 (e^0.6 + e^0.6)/2 = e^0.6, class 1 e^0.8/1: p0 = softmax([0.6, 0.8]) = [0.450166, 0.549834].
    // u1: class 0 (e + e)/2 = e, class 1 1/1: p1 = softmax([1, 0]) = [0.731059, 0.268941].
    // S = softmax rows of U Uᵀ = [[1, 0.6], [0.6, 1]] -> [[0.598688, 0.401312], [0.401312, 0.598688]].
    // A = I − 0.2 S = [[0.880262, −0.080262], [−0.080262, 0.880262]], det = 0.768420, A^−1 = [[0.880262, 0.080262], [0.080262, 0.880262]] / det.
    // X = A^−1 · 0.8 P = [[0.473638, 0.526362], [0.707587, 0.292413]].
    expectNoLeak(() =>
      tf.tidy(() => {
        const x = propagatedDensityPosterior(tf.tensor2d(features.slice(0, 3)), tf.tensor2d([[0.6, 0.8], [1, 0]]), tf.tensor2d(labels.slice(0, 3)), 1, 0.2);
        expect(round(x.dataSync(), 5)).toEqual(round([0.473638, 0.526362, 0.707587, 0.292413], 5));
        // Sharpened with power 4: [0.473638^4, 0.526362^4] = [0.050326, 0.076761], normalised [0.395993, 0.604007].
        expect(round(sharpen(x).dataSync(), 5).slice(0, 2)).toEqual([0.39599, 0.60401]);
      }),
    );
  });
});

describe('CCL priors', () => {
  it('end-of-epoch EMA of the selected and confident pseudo-label mass', () => {
    // n_u = [3, 1] -> [0.75, 0.25]; α = 0.5 on [0.5, 0.5]: [0.625, 0.375].
    // n = [1, 3] -> [0.25, 0.75]; β = 0.9 on [0.8, 0.2]: [0.72 + 0.025, 0.18 + 0.075] = [0.745, 0.255].
    const next = cclPriorUpdate({ unlabeled: [0.5, 0.5], all: [0.8, 0.2] }, [3, 1], [1, 3], 0.5, 0.9);
    expect(round(next.unlabeled, 12)).toEqual([0.625, 0.375]);
    expect(round(next.all, 12)).toEqual([0.745, 0.255]);
  });

  it('the weak standard logits are moved from the training prior to π̂_u^(1+τ/2)', () => {
    // π_l = [0.8, 0.2], π̂ = [0.5, 0.5], π̂_u = [0.2, 0.8], τ = 2, labeled share 1/3 (64 of 192):
    // mixed = [0.8/3 + 1/3, 0.2/3 + 1/3] = [0.6, 0.4]; −log mixed = [0.510826, 0.916291];
    // log π̂_u^2 = [log 0.04, log 0.64] = [−3.218876, −0.446287]; sum [−2.708050, 0.470004].
    expect(round(cclUnlabeledAdjustment([0.8, 0.2], { unlabeled: [0.2, 0.8], all: [0.5, 0.5] }, 2, 1 / 3))).toEqual([-2.70805, 0.470004]);
  });
});

describe('the CCL learner', () => {
  it('keeps the tensor count flat over steps and restores its state exactly', () => {
    // Epochs of 2 steps, estimate from epoch 1 on; energy threshold 0 so that some samples are selected at init.
    const h = learnerHarness('ccl', { cclEpochSteps: 2, cclEstimateAfter: 0, cclEnergyThreshold: 0, threshold: 0.3, cclProjectionDim: 16 });
    try {
      const { afterFirst, afterLast } = tensorsOverSteps(h, 6);
      expect(afterLast).toBe(afterFirst);
      const last = h.step(6);
      for (const k of ['lossDensity', 'lossContrastive', 'lossUnlabeledBalanced', 'energyRate']) expect(Number.isFinite(last.terms[k])).toBe(true);
      const saved = checkpointed(h.state);
      expect((saved.json.ccl as { updates: number }).updates).toBe(2);
      expectTwinRestores(h, saved);
    } finally {
      h.dispose();
    }
  });

  it('learns on tiny data and reports the balanced head; the projection heads are not class heads', async () => {
    const outDir = tmpRuns('ssl-ccl-');
    const config = resolveRunConfig('ccl', [
      {
        source: 'test',
        values: {
          net: 'cnn-small', backend, n1: 40, m1: 60, gammaL: 4, gammaU: 1, validationPerClass: 10, iterations: 60, evalEvery: 20, checkpointEvery: 60,
          labeledBatch: 16, unlabeledRatio: 2, plWindow: 20, workers: 0, progress: 'none', outDir, selection: 'last', runId: 'ccl', cclEpochSteps: 10, cclEstimateAfter: 0, cclProjectionDim: 32,
        },
      },
    ]);
    const result = await runExperiment(config, { log: () => {}, dataset: syntheticDataset() });
    const s = result.summary;
    expect(s.algorithm).toBe('ccl');
    expect(s.heads?.reported).toBe('balanced');
    expect(Object.keys(s.heads!.test).sort()).toEqual(['balanced', 'classifier']);
    expect(s.final.balancedAccuracy).toBeGreaterThan(0.6);
    expect(s.priorEstimates!.sources.ccl!.estimate.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  }, 120_000);
});
