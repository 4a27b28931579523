/** ACR: anchors, τ from the three anchors, the estimate, the OR-masked consistency, and the learner end to end. */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { acrAnchors, adaptiveTau, anchorDivergences, confidentHistogram, updateEstimate } from '../../src/algorithms/acr/adaptive-tau.js';
import { eitherConfidentLoss } from '../../src/algorithms/acr/acr.js';
import { logPriorPower, reversedPrior, symmetricKl } from '../../src/algorithms/class-prior.js';
import { resolveRunConfig } from '../../src/config/run-config.js';
import { runExperiment } from '../../src/run/run-experiment.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { expectNoLeak } from '../helpers/tf-cpu.js';
import { expectUserError } from '../helpers/user-error.js';
import { checkpointed, learnerHarness, tensorsOverSteps, expectTwinRestores, tmpRuns, useTestBackend } from '../helpers/learner-harness.js';

let backend: 'torch' | 'cpu' = 'cpu';
beforeAll(async () => {
  backend = await useTestBackend();
});

const round = (xs: readonly number[], d = 6): number[] => xs.map((x) => Number(x.toFixed(d)));

describe('ACR anchors and priors', () => {
  it('consistent = π_l, uniform, reversed = π_l with its ranks reversed (the official flip on sorted splits)', () => {
    // counts [4, 1]: π_l = [0.8, 0.2]; reversed [0.2, 0.8].
    const a = acrAnchors([4, 1]);
    expect(a.consistent).toEqual([0.8, 0.2]);
    expect(a.uniform).toEqual([0.5, 0.5]);
    expect(a.reversed).toEqual([0.2, 0.8]);
    // Unsorted [0.2, 0.5, 0.3]: ranks c1 > c2 > c0, so c1 takes the smallest mass 0.2, c2 keeps 0.3, c0 the largest 0.5.
    expect(reversedPrior([0.2, 0.5, 0.3])).toEqual([0.5, 0.2, 0.3]);
  });

  it('log(π^τ + 1e-12): τ·log π for π > 0, ≈ 0 at τ = 0', () => {
    // π = [0.8, 0.2], τ = 2: log 0.64 = −0.446287, log 0.04 = −3.218876; τ = 0: log(1 + 1e-12) ≈ 1e-12.
    expect(round(logPriorPower([0.8, 0.2], 2))).toEqual([-0.446287, -3.218876]);
    expect(logPriorPower([0.8, 0.2], 0).every((v) => Math.abs(v) < 1e-11)).toBe(true);
  });
});

describe('ACR τ from the three anchors', () => {
  it('symmetric KL to each anchor, by hand', () => {
    // û = [0.7, 0.3] against consistent [0.8, 0.2]:
    //   KL(con‖û) = 0.8·ln(0.8/0.7) + 0.2·ln(0.2/0.3) = 0.106825 − 0.081093 = 0.025732
    //   KL(û‖con) = 0.7·ln(0.7/0.8) + 0.3·ln(0.3/0.2) = −0.093472 + 0.121640 = 0.028168 -> ½(Σ) = 0.026950
    // against uniform: ½(0.5 ln(0.5/0.7) + 0.5 ln(0.5/0.3) + 0.7 ln(0.7/0.5) + 0.3 ln(0.3/0.5)) = 0.084730
    // against reversed [0.2, 0.8]: 0.558398.
    const k = anchorDivergences([0.7, 0.3], acrAnchors([4, 1]));
    expect(round(k)).toEqual([0.02695, 0.08473, 0.558398]);
    expect(symmetricKl([0.8, 0.2], [0.7, 0.3])).toBeCloseTo(0.02695, 6);
  });

  it('τ = τ_max · e^{k_con} / Σ e^{k}, k the epoch mean; farther from consistent -> stronger adjustment', () => {
    // An epoch of 10 steps, each adding the divergences of û = [0.7, 0.3]: the mean is k above.
    // e^k = [1.027316, 1.088423, 1.747870]; share 1.027316 / 3.863609 = 0.265895; τ = 2 · 0.265895 = 0.531791.
    const near = anchorDivergences([0.7, 0.3], acrAnchors([4, 1])).map((k) => 10 * k) as [number, number, number];
    expect(adaptiveTau(near, 10, 0, 2)).toBeCloseTo(0.531791, 6);
    // û uniform [0.5, 0.5]: k = [0.207944, 0, 0.207944]; e^k = [1.231144, 1, 1.231144];
    // share 1.231144 / 3.462288 = 0.355587 -> τ = 0.711174.
    const uniform = anchorDivergences([0.5, 0.5], acrAnchors([4, 1])).map((k) => 10 * k) as [number, number, number];
    expect(adaptiveTau(uniform, 10, 0, 2)).toBeCloseTo(0.711174, 6);
    // û reversed [0.2, 0.8]: k = [0.831777, 0.207944, 0]; e^k = [2.297397, 1.231144, 1]; share 0.507315 -> τ = 1.014630.
    const reversed = anchorDivergences([0.2, 0.8], acrAnchors([4, 1])).map((k) => 10 * k) as [number, number, number];
    expect(adaptiveTau(reversed, 10, 0, 2)).toBeCloseTo(1.01463, 5);
    // The first estimating epoch sees the previous, empty sum: e^0 / 3e^0 -> τ = 2/3 (as the official code).
    expect(adaptiveTau([0, 0, 0], 500, 0, 2)).toBeCloseTo(2 / 3, 12);
    // An infinite divergence gives NaN: the previous τ stays (official `if math.isnan(tau) == False`).
    expect(adaptiveTau([Infinity, 1, 1], 10, 0, 2)).toBeNull();
  });
});

describe('ACR estimate of the unlabeled distribution', () => {
  it('a step\'s histogram counts confident balanced pseudo-labels; index-put keeps one sample per class (the official assignment)', () => {
    // labels [0, 1, 0, 2, 0], confident [1, 1, 0, 0, 1]: count -> class 0: samples 0 and 4 = 2, class 1: 1, class 2: 0.
    // index-put: class 0 gets the mask of its LAST sample (4) = 1, class 1: 1, class 2: 0.
    const labels = Int32Array.of(0, 1, 0, 2, 0);
    const confident = Float32Array.of(1, 1, 0, 0, 1);
    expect(confidentHistogram(labels, confident, 3, 'count')).toEqual([2, 1, 0]);
    expect(confidentHistogram(labels, confident, 3, 'index-put')).toEqual([1, 1, 0]);
    // Two class-0 samples, the last unconfident: count 1, index-put 0.
    expect(confidentHistogram(Int32Array.of(0, 0), Float32Array.of(1, 0), 1, 'count')).toEqual([1]);
    expect(confidentHistogram(Int32Array.of(0, 0), Float32Array.of(1, 0), 1, 'index-put')).toEqual([0]);
  });

  it('û ← a·û + (1 − a)·h/Σh when h has mass; an empty step changes nothing and adds no divergence', () => {
    // û = [0.5, 0.5], h = [3, 1] -> [0.75, 0.25]; a = 0.9: [0.45 + 0.075, 0.45 + 0.025] = [0.525, 0.475].
    const anchors = acrAnchors([4, 1]);
    const next = updateEstimate([0.5, 0.5], [3, 1], 0.9, anchors);
    expect(round(next.estimate, 12)).toEqual([0.525, 0.475]);
    expect(next.divergences).toEqual(anchorDivergences([0.525, 0.475], anchors));
    const none = updateEstimate([0.5, 0.5], [0, 0], 0.9, anchors);
    expect(none.estimate).toEqual([0.5, 0.5]);
    expect(none.divergences).toBeNull();
  });
});

describe('ACR consistency loss', () => {
  it('a sample enters when the target OR the second distribution is confident, labelled by the target; mean over B and the strong views', () => {
    expectNoLeak(() =>
      tf.tidy(() => {
        const logits = tf.tensor2d([[2, 0], [0, 0], [1, 3]]);
        const target = tf.tensor2d([[0.97, 0.03], [0.6, 0.4], [0.3, 0.7]]);
        const also = tf.tensor2d([[0.5, 0.5], [0.96, 0.04], [0.1, 0.9]]);
        const { final, mask, loss } = eitherConfidentLoss([logits], target, also, 0.95, null);
        expect(Array.from(final.dataSync())).toEqual([0, 0, 1]);
        // Row 0: target confident; row 1: only `also` is, label argmax target = 0; row 2: neither.
        expect(Array.from(mask.dataSync())).toEqual([1, 1, 0]);
        // (CE([2, 0], 0) + CE([0, 0], 0)) / 3 = (ln(1 + e^−2) + ln 2) / 3 = (0.126928 + 0.693147) / 3 = 0.273358.
        expect(loss.dataSync()[0]).toBeCloseTo(0.273358, 5);
        const weighted = eitherConfidentLoss([logits], target, also, 0.95, tf.tensor1d([2, 0, 1]));
        // Weights [2, 0, 1]: 2 · 0.126928 / 3 = 0.084619.
        expect(weighted.loss.dataSync()[0]).toBeCloseTo(0.084619, 5);
        // Two strong views, the same mask (official cat of both): view 2 = [[0, 2], [2, 0], [0, 0]] adds
        // CE([0, 2], 0) + CE([2, 0], 0) = ln(1 + e²) + ln(1 + e^−2) = 2.126928 + 0.126928 = 2.253856;
        // (0.820075 + 2.253856) / (2·3) = 0.512322.
        const two = eitherConfidentLoss([logits, tf.tensor2d([[0, 2], [2, 0], [0, 0]])], target, also, 0.95, null);
        expect(two.loss.dataSync()[0]).toBeCloseTo(0.512322, 5);
      }),
    );
  });
});

describe('the ACR learner', () => {
  it('is refused with an add-on that adjusts the unlabeled logits it adjusts itself, and with a second reported head', () => {
    expect(() => resolveRunConfig({ algorithm: 'acr', with: ['daso'] }, [])).not.toThrow();
    expectUserError(() => resolveRunConfig({ algorithm: 'acr', with: ['abc'] }, []), /acr and abc each report their own head/);
    expectUserError(() => resolveRunConfig({ algorithm: 'acr', with: ['debiaspl'] }, []), /acr and debiaspl both adjust the unlabeled-logits/);
  });

  it('keeps the tensor count flat over steps and restores its state exactly', () => {
    // Epochs of 2 steps, estimate from epoch 1 on: τ and û move within 6 steps.
    const h = learnerHarness('acr', { acrEpochSteps: 2, acrEstimateAfter: 0, threshold: 0.3 });
    try {
      const { afterFirst, afterLast } = tensorsOverSteps(h, 6);
      expect(afterLast).toBe(afterFirst);
      const last = h.step(6);
      expect(Object.keys(last.terms).sort()).toEqual(['acrTau', 'lossLabeled', 'lossLabeledBalanced', 'lossUnlabeled', 'lossUnlabeledBalanced', 'lr', 'maskRate']);
      expect(Object.keys(last.pseudoLabels!.sources).sort()).toEqual(['balanced', 'final', 'linear']);
      const saved = checkpointed(h.state);
      const acr = saved.json.acr as { tau: number; estimateSteps: number };
      expect(acr.estimateSteps).toBeGreaterThan(0);
      expect(acr.tau).not.toBe(2);
      expectTwinRestores(h, saved);
    } finally {
      h.dispose();
    }
  });

  it('learns on tiny data, reports the balanced head, logs τ and its prior estimate with KL', async () => {
    const outDir = tmpRuns('ssl-acr-');
    const config = resolveRunConfig('acr', [
      {
        source: 'test',
        values: {
          net: 'cnn-small', backend, n1: 40, m1: 60, gammaL: 4, gammaU: 1, validationPerClass: 10, iterations: 60, evalEvery: 20, checkpointEvery: 60,
          labeledBatch: 16, unlabeledRatio: 2, plWindow: 20, workers: 0, progress: 'none', outDir, selection: 'last', runId: 'acr', acrEpochSteps: 10, acrEstimateAfter: 0,
        },
      },
    ]);
    const result = await runExperiment(config, { log: () => {}, dataset: syntheticDataset() });
    const s = result.summary;
    expect(s.algorithm).toBe('acr');
    expect(s.heads?.reported).toBe('balanced');
    expect(Object.keys(s.heads!.test).sort()).toEqual(['balanced', 'classifier']);
    expect(s.final.balancedAccuracy).toBeCloseTo(s.heads!.test.balanced!.balancedAccuracy, 10);
    // Chance is 25% on 4 classes.
    expect(s.final.balancedAccuracy).toBeGreaterThan(0.6);
    const acr = s.priorEstimates!.sources.acr!;
    expect(acr.estimate.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    const kl = acr.estimate.reduce((sum, p, c) => sum + (p > 0 ? p * Math.log(p / s.priorEstimates!.truth[c]!) : 0), 0);
    expect(acr.kl).toBeCloseTo(kl, 6);
    const events = readFileSync(path.join(result.runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const train = events.filter((e) => e.type === 'train');
    expect(train.length).toBeGreaterThan(0);
    // τ left τ_max = 2 once the estimate ran (epochs of 10 steps, from epoch 1).
    expect(train.every((e) => Number.isFinite(e.acrTau) && e.acrTau < 2)).toBe(true);
    expect(events.filter((e) => e.type === 'eval').every((e) => e.heads?.reported === 'balanced')).toBe(true);
  }, 120_000);
});
