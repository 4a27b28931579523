/** CPE: per-expert logit adjustments, class-group weights of the unlabeled loss, and the learner end to end. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { expertAdjustments, expertUnlabeledLoss, groupWeights } from '../../src/algorithms/cpe/experts.js';
import { softmaxCrossEntropy } from '../../src/ops/cross-entropy.js';
import { registry } from '../../src/algorithms/index.js';
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

describe('CPE per-expert adjustments', () => {
  it('expert e adds τ_e·log π_l to its labeled logits: τ = 0, 2, 4', () => {
    // counts [4, 1]: log π = [log 0.8, log 0.2] = [−0.223144, −1.609438].
    // τ = 0: [0, 0]; τ = 2: [−0.446287, −3.218876]; τ = 4: [−0.892574, −6.437752].
    const [a1, a2, a3] = expertAdjustments([4, 1], [0, 2, 4]);
    expect(round(a1!)).toEqual([0, 0]);
    expect(round(a2!)).toEqual([-0.446287, -3.218876]);
    expect(round(a3!)).toEqual([-0.892574, -6.437752]);
  });

  it('on equal logits, a tail label costs ln 2, ln(1 + 4²), ln(1 + 4⁴) for the three experts', () => {
    // z = [0, 0], y = 1 (tail): CE(z + τ log π, 1) = ln(1 + (π_0/π_1)^τ) with π_0/π_1 = 4:
    // τ = 0: ln 2 = 0.693147; τ = 2: ln 17 = 2.833213; τ = 4: ln 257 = 5.549076.
    // The more adjusted an expert, the harder it pushes the tail logit up: a balanced or reversed fit.
    const losses = expectNoLeak(() =>
      tf.tidy(() =>
        expertAdjustments([4, 1], [0, 2, 4]).map((adj) => softmaxCrossEntropy(tf.tensor2d([adj]), tf.tensor1d([1], 'int32')).dataSync()[0]!),
      ),
    );
    expect(round(losses)).toEqual([0.693147, 2.833213, 5.549076]);
  });
});

describe('CPE class-group weights of the unlabeled loss', () => {
  it('1 + [rank ≥ cut₁] + [rank ≥ cut₂]: CIFAR-10 cuts 2 and 4 give 1, 1, 2, 2, 3, ...', () => {
    const counts = [1500, 899, 539, 323, 193, 116, 69, 41, 25, 15];
    expect(groupWeights(counts, 2, 4)).toEqual([1, 1, 2, 2, 3, 3, 3, 3, 3, 3]);
    // By rank, not index: the same counts shuffled keep each class's weight.
    expect(groupWeights([15, 1500, 539, 899], 1, 2)).toEqual([3, 1, 3, 2]);
  });

  it('Σ g·m·CE / (Σ g·m + 1e-12): the three branches\' terms over their count', () => {
    expectNoLeak(() =>
      tf.tidy(() => {
        const logits = tf.tensor2d([[2, 0], [0, 0], [1, 3]]);
        const mask = tf.tensor1d([1, 1, 0]);
        // g = [1, 3] (class 1 is the tail). Labels [0, 0, 1]: terms [1, 1, 0];
        // (CE([2, 0], 0) + CE([0, 0], 0)) / 2 = (0.126928 + 0.693147) / 2 = 0.410038.
        expect(expertUnlabeledLoss(logits, tf.tensor1d([0, 0, 1], 'int32'), mask, [1, 3], null).dataSync()[0]).toBeCloseTo(0.410038, 5);
        // Labels [0, 1, 1]: terms [1, 3, 0]; (0.126928 + 3·0.693147) / 4 = 2.206369 / 4 = 0.551592.
        expect(expertUnlabeledLoss(logits, tf.tensor1d([0, 1, 1], 'int32'), mask, [1, 3], null).dataSync()[0]).toBeCloseTo(0.551592, 5);
        // Nothing confident: 0, not NaN.
        expect(expertUnlabeledLoss(logits, tf.tensor1d([0, 1, 1], 'int32'), tf.zeros([3]) as tf.Tensor1D, [1, 3], null).dataSync()[0]).toBe(0);
      }),
    );
  });
});

describe('the CPE learner', () => {
  it('reports expert 2 by default, the classifier head when expert 1 is chosen; refuses a tail cut before the medium one', () => {
    const needs = (values: Record<string, unknown>) => registry.modelNeeds(resolveRunConfig('cpe', [{ source: 'test', values }]));
    expect(needs({})).toEqual({ auxHeads: [{ name: 'expert-2', outputs: 'classes' }, { name: 'expert-3', outputs: 'classes' }], reportedHead: 'expert-2' });
    expect(needs({ cpeReportedExpert: 3 }).reportedHead).toBe('expert-3');
    expect(needs({ cpeReportedExpert: 1 }).reportedHead).toBeUndefined();
    expectUserError(() => resolveRunConfig('cpe', [{ source: 'test', values: { cpeCut1: 4, cpeCut2: 2 } }]), /--cpe-cut2.*below --cpe-cut1/);
    expectUserError(() => resolveRunConfig('cpe', [{ source: 'test', values: { labeledLoss: 'focal' } }]), /cpe takes no --labeled-loss focal/);
    expectUserError(() => resolveRunConfig({ algorithm: 'cpe', with: ['debiaspl'] }, []), /cpe and debiaspl both adjust the unlabeled-logits/);
    expect(() => resolveRunConfig({ algorithm: 'cpe', with: ['daso', 'saw'] }, [])).not.toThrow();
  });

  it('keeps the tensor count flat over steps and restores its state exactly', () => {
    // 100 iterations: the estimate starts after the first 1/256 of the run, at step 1.
    const h = learnerHarness('cpe', { threshold: 0.3 });
    try {
      const { afterFirst, afterLast } = tensorsOverSteps(h, 5);
      expect(afterLast).toBe(afterFirst);
      const last = h.step(5);
      expect(Object.keys(last.pseudoLabels!.sources).sort()).toEqual(['expert-1', 'expert-3', 'final', 'linear']);
      const saved = checkpointed(h.state);
      expect((saved.json.cpe as { estimateSteps: number }).estimateSteps).toBeGreaterThan(0);
      expectTwinRestores(h, saved);
    } finally {
      h.dispose();
    }
  });

  it('learns on tiny data, reports expert 2 and logs all three experts', async () => {
    const outDir = tmpRuns('ssl-cpe-');
    const config = resolveRunConfig('cpe', [
      {
        source: 'test',
        values: {
          net: 'cnn-small', backend, n1: 40, m1: 60, gammaL: 4, gammaU: 1, validationPerClass: 10, iterations: 60, evalEvery: 20, checkpointEvery: 60,
          labeledBatch: 16, unlabeledRatio: 2, plWindow: 20, workers: 0, progress: 'none', outDir, selection: 'last', runId: 'cpe', cpeCut1: 1, cpeCut2: 2,
        },
      },
    ]);
    const result = await runExperiment(config, { log: () => {}, dataset: syntheticDataset() });
    const s = result.summary;
    expect(s.algorithm).toBe('cpe');
    expect(s.heads?.reported).toBe('expert-2');
    expect(Object.keys(s.heads!.test).sort()).toEqual(['classifier', 'expert-2', 'expert-3']);
    expect(s.final.balancedAccuracy).toBeCloseTo(s.heads!.test['expert-2']!.balancedAccuracy, 10);
    expect(s.final.balancedAccuracy).toBeGreaterThan(0.6);
    expect(Object.keys(s.pseudoLabels!.sources).sort()).toEqual(['expert-1', 'expert-3', 'final', 'linear']);
    expect(s.priorEstimates!.sources.cpe!.estimate.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  }, 120_000);
});
