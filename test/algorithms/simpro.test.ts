/** SimPro: the E-step, the closed-form M-step of the priors, the labeled-loss scale, and the learner end to end. */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { labeledLossScale, simproMStep } from '../../src/algorithms/simpro/m-step.js';
import { simproPseudoLabels } from '../../src/algorithms/simpro/simpro.js';
import { resolveRunConfig } from '../../src/config/run-config.js';
import { runExperiment } from '../../src/run/run-experiment.js';
import { klDivergence } from '../../src/eval/prior-estimate.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { expectNoLeak } from '../helpers/tf-cpu.js';
import { expectUserError } from '../helpers/user-error.js';
import { checkpointed, learnerHarness, tensorsOverSteps, expectTwinRestores, tmpRuns, useTestBackend } from '../helpers/learner-harness.js';

let backend: 'torch' | 'cpu' = 'cpu';
beforeAll(async () => {
  backend = await useTestBackend();
});

const round = (xs: readonly number[], d = 6): number[] => xs.map((x) => Number(x.toFixed(d)));

describe('SimPro E-step', () => {
  it('q = softmax(z + log(π̂_u^τ + 1e-12))', () => {
    // π̂_u = [0.8, 0.2], τ = 2: log π^τ = [log 0.64, log 0.04] = [−0.446287, −3.218876].
    // z = [0, 0]: q = [0.64, 0.04] / 0.68 = [0.941176, 0.058824].
    // z = [2, 0]: q_0 = 1 / (1 + e^−(2 − 0.446287 + 3.218876)) = 1 / (1 + e^−4.772589) = 0.991612.
    expectNoLeak(() =>
      tf.tidy(() => {
        const q = simproPseudoLabels(tf.tensor2d([[0, 0], [2, 0]]), [0.8, 0.2], 2);
        expect(round(Array.from(q.dataSync()))).toEqual([0.941176, 0.058824, 0.991612, 0.008388]);
      }),
    );
  });
});

describe('SimPro M-step (closed form, with the EMA)', () => {
  it('π̂_u ← a·π̂_u + (1 − a)·m/(Σm + 1); π̂ ← a·π̂ + (1 − a)·(n + m)/Σ(n + m)', () => {
    // m = [3, 1]: m / (4 + 1) = [0.6, 0.2]; a = 0.9 on π̂_u = [0.5, 0.5]: [0.45 + 0.06, 0.45 + 0.02] = [0.51, 0.47].
    // n = [6, 2]: n + m = [9, 3] -> [0.75, 0.25]; on π̂ = [0.8, 0.2]: [0.72 + 0.075, 0.18 + 0.025] = [0.795, 0.205].
    const next = simproMStep({ unlabeled: [0.5, 0.5], all: [0.8, 0.2] }, { unlabeledMass: [3, 1], labeledCount: [6, 2] }, 0.9);
    expect(round(next.unlabeled, 12)).toEqual([0.51, 0.47]);
    expect(round(next.all, 12)).toEqual([0.795, 0.205]);
    // An epoch without confident samples: m = 0 -> π̂_u shrinks to 0.9·π̂_u (the +1 keeps it finite), π̂ moves to π_l of the epoch.
    const empty = simproMStep({ unlabeled: [0.5, 0.5], all: [0.5, 0.5] }, { unlabeledMass: [0, 0], labeledCount: [3, 1] }, 0.9);
    expect(round(empty.unlabeled, 12)).toEqual([0.45, 0.45]);
    expect(round(empty.all, 12)).toEqual([0.525, 0.475]);
  });

  it('the labeled loss is divided by ⌊N_u/B_u⌋ / ⌊N_l/B_l⌋ (official scale_ratio)', () => {
    // CIFAR-10-LT N_1 500, γ_l 100: N_l = 1236, batch 64 -> 19 batches. Uniform M_1 4000: N_u = 40,000, batch 512 -> 78: 78/19 = 4.105263.
    expect(labeledLossScale(1236, 64, 40_000, 512)).toBeCloseTo(4.105263, 6);
    // Consistent γ_u 100: N_u = 9922 -> 19 batches: 1.
    expect(labeledLossScale(1236, 64, 9922, 512)).toBe(1);
    // A labeled set smaller than its batch counts one batch.
    expect(labeledLossScale(10, 64, 1000, 128)).toBe(7);
  });
});

describe('the SimPro learner', () => {
  it('owns its labeled loss and both logit points: other labeled losses and logit adjustment are refused', () => {
    expectUserError(() => resolveRunConfig('simpro', [{ source: 'test', values: { labeledLoss: 'focal' } }]), /simpro takes no --labeled-loss focal/);
    expectUserError(() => resolveRunConfig('simpro', [{ source: 'test', values: { labeledLoss: 'balanced-softmax' } }]), /balanced-softmax and simpro both adjust the labeled-logits/);
    expectUserError(() => resolveRunConfig({ algorithm: 'simpro', with: ['la'] }, []), /simpro and la both adjust the labeled-logits/);
    expectUserError(() => resolveRunConfig({ algorithm: 'simpro', with: ['debiaspl'] }, []), /debiaspl cannot be added to simpro: debiaspl needs a learner that takes its unlabeled loss as a cross-entropy/);
    expect(() => resolveRunConfig({ algorithm: 'simpro', with: ['daso'] }, [])).not.toThrow();
  });

  it('keeps the tensor count flat over steps and restores its state exactly', () => {
    const h = learnerHarness('simpro', { simproEpochSteps: 2, threshold: 0.3 });
    try {
      const { afterFirst, afterLast } = tensorsOverSteps(h, 5);
      expect(afterLast).toBe(afterFirst);
      const saved = checkpointed(h.state);
      const own = saved.json.simpro as { mSteps: number; unlabeled: number[]; labeledCount: number[] };
      // Steps 0–4 with epochs of 2: M-steps after steps 1 and 3; step 4's 8 labeled samples wait for the next.
      expect(own.mSteps).toBe(2);
      expect(own.labeledCount.reduce((a, b) => a + b, 0)).toBe(8);
      expect(own.unlabeled).not.toEqual([0.25, 0.25, 0.25, 0.25]);
      expect(h.state.algorithm.priorEstimates!()).toEqual({ simpro: own.unlabeled });
      expectTwinRestores(h, saved);
    } finally {
      h.dispose();
    }
  });

  it('learns on tiny data, and its estimate of a reversed unlabeled prior gets closer to the truth over training', async () => {
    const outDir = tmpRuns('ssl-simpro-');
    const config = resolveRunConfig('simpro', [
      {
        source: 'test',
        values: {
          net: 'cnn-small', backend, n1: 40, m1: 60, gammaL: 4, gammaU: 0.25, validationPerClass: 10, iterations: 80, evalEvery: 10, checkpointEvery: 80,
          labeledBatch: 16, unlabeledRatio: 2, plWindow: 20, workers: 0, progress: 'none', outDir, selection: 'last', runId: 'simpro', simproEpochSteps: 10, simproEmaU: 0.5,
        },
      },
    ]);
    const result = await runExperiment(config, { log: () => {}, dataset: syntheticDataset() });
    const s = result.summary;
    expect(s.algorithm).toBe('simpro');
    // Only the classifier head: nothing to confuse it with.
    expect(s.heads).toBeUndefined();
    expect(s.final.balancedAccuracy).toBeGreaterThan(0.6);
    const truth = s.priorEstimates!.truth;
    // Reversed γ_u = 1/4 on 4 classes: the tail of the labeled set is the head of the unlabeled one.
    expect(truth[3]!).toBeGreaterThan(truth[0]!);
    const events = readFileSync(path.join(result.runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; priors?: Record<string, { kl: number }> });
    const kls = events.filter((e) => e.type === 'eval' && e.priors?.simpro).map((e) => e.priors!.simpro!.kl);
    expect(kls.length).toBe(8);
    expect(kls.at(-1)!).toBeLessThan(kls[0]!);
    // Closer than the uniform start, and than the labeled prior a consistent-distribution method assumes.
    expect(kls.at(-1)!).toBeLessThan(klDivergence([0.25, 0.25, 0.25, 0.25], truth));
    expect(kls.at(-1)!).toBeLessThan(klDivergence(s.classCounts.labeled.map((n) => n), truth));
  }, 120_000);
});
