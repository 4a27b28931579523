/** ABC's masks and loss, train-time logit adjustment, and both composed with FixMatch (and DASO) end to end. */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { abcMaskParameters, bernoulliMask } from '../../src/algorithms/abc.js';
import { createLogitAdjustment } from '../../src/algorithms/logit-adjustment.js';
import { composeAddOns, registry } from '../../src/algorithms/index.js';
import { labeledTerm } from '../../src/algorithms/labeled-term.js';
import { crossEntropy } from '../../src/losses/cross-entropy.js';
import { logitAdjusted } from '../../src/losses/logit-adjusted.js';
import { resolveRunConfig } from '../../src/config/run-config.js';
import { runExperiment } from '../../src/run/run-experiment.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { testBackend } from '../helpers/cli.js';
import { useCpuBackend } from '../helpers/tf-cpu.js';
import { expectUserError } from '../helpers/user-error.js';

let backend: 'torch' | 'cpu' = 'cpu';
beforeAll(async () => {
  await useCpuBackend();
  backend = (await testBackend()) as 'torch' | 'cpu';
});

describe('ABC masks', () => {
  it('labeled p_c = n_min / n_c; unlabeled p annealed from 1 over 500 stages', () => {
    // counts [100, 10, 1]: p = [0.01, 0.1, 1]. At step 500 of 1000: stage ⌊500·500/1000⌋ = 250,
    // 1 − (250/500)·(1 − p) = [0.505, 0.55, 1]. Step 0: all 1. Step 999: stage 499, 1 − 0.998·0.99 = 0.01198.
    const mid = abcMaskParameters([100, 10, 1], 500, 1000);
    expect(mid.labeled).toEqual([0.01, 0.1, 1]);
    expect(mid.unlabeled.map((p) => Number(p.toFixed(6)))).toEqual([0.505, 0.55, 1]);
    expect(abcMaskParameters([100, 10, 1], 0, 1000).unlabeled).toEqual([1, 1, 1]);
    expect(abcMaskParameters([100, 10, 1], 999, 1000).unlabeled[0]).toBeCloseTo(0.01198, 6);
  });

  it('draws Bernoulli(p_class) from the given uniforms: u < p keeps the sample', () => {
    // classes [0, 1, 2, 0] with p = [0.01, 0.1, 1]: u = [0.005, 0.2, 0.99, 0.01] -> [1, 0, 1, 0] (u = p drops).
    const before = tf.memory().numTensors;
    const mask = tf.tidy(() => Array.from(bernoulliMask([0.01, 0.1, 1], tf.tensor1d([0, 1, 2, 0], 'int32'), Float32Array.of(0.005, 0.2, 0.99, 0.01)).dataSync()));
    expect(mask).toEqual([1, 0, 1, 0]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('train-time logit adjustment', () => {
  it('adds τ·log π_l to the labeled logits only', () => {
    // counts [3, 1]: log π = [log 0.75, log 0.25] = [−0.287682, −1.386294]; τ = 1 on z = [1, 1] -> [0.712318, −0.386294];
    // τ = 0.5 -> [0.856159, 0.306853].
    const la = createLogitAdjustment({ laTau: 1 }, [3, 1]);
    const half = createLogitAdjustment({ laTau: 0.5 }, [3, 1]);
    tf.tidy(() => {
      const z = tf.tensor2d([[1, 1]]);
      const ctx = { step: 0, iterations: 1 };
      expect(Array.from(la.adjustLabeledLogits!(z, ctx).dataSync()).map((v) => Number(v.toFixed(6)))).toEqual([0.712318, -0.386294]);
      expect(Array.from(half.adjustLabeledLogits!(z, ctx).dataSync()).map((v) => Number(v.toFixed(6)))).toEqual([0.856159, 0.306853]);
    });
    expect(la.adjustUnlabeledLogits).toBeUndefined();
  });

  it('with the slot at ce, the labeled term is the logit-adjusted loss (google-research form)', () => {
    const chain = composeAddOns([createLogitAdjustment({ laTau: 1 }, [30, 10, 2])]);
    tf.tidy(() => {
      const z = tf.tensor2d([[0.3, -1, 2], [1.5, 0.2, -0.4], [0, 0, 0]]);
      const y = tf.tensor1d([2, 0, 1], 'int32');
      const ours = labeledTerm((l, t) => crossEntropy(l, t), chain, z, y, { step: 0, iterations: 1 }).dataSync()[0]!;
      expect(ours).toBeCloseTo(logitAdjusted(z, y, [30, 10, 2], { tau: 1 }).dataSync()[0]!, 6);
      expect(ours).not.toBeCloseTo(crossEntropy(z, y).dataSync()[0]!, 3);
    });
  });

  it('is refused with a labeled loss that already adjusts the logits, naming both', () => {
    expectUserError(() => resolveRunConfig({ algorithm: 'fixmatch', with: ['la'] }, [{ source: 'test', values: { labeledLoss: 'balanced-softmax' } }]), /balanced-softmax and la both adjust the labeled-logits/);
    expect(() => registry.assertComposable({ algorithm: 'fixmatch', with: ['la', 'daso'] })).not.toThrow();
  });
});

describe('ABC and LA composed with FixMatch, end to end on tiny data', () => {
  const tiny = (outDir: string, runId: string, extra: Record<string, unknown> = {}) => ({
    source: 'test',
    values: {
      net: 'cnn-small', backend, n1: 40, m1: 60, gammaL: 4, gammaU: 1, validationPerClass: 10, iterations: 60, evalEvery: 20,
      checkpointEvery: 20, labeledBatch: 16, unlabeledRatio: 2, plWindow: 20, workers: 0, progress: 'none', outDir, selection: 'last',
      runId, ...extra,
    },
  });

  it('fixmatch + abc + daso learns, reports the balanced head, logs every head and the abc source', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-abc-'));
    const config = resolveRunConfig({ algorithm: 'fixmatch', with: ['abc', 'daso'] }, [tiny(outDir, 'abc', { dasoWarmup: 20, dasoHistogramWindow: 10 })]);
    const result = await runExperiment(config, { log: () => {}, dataset: syntheticDataset() });
    const s = result.summary;
    expect(s.algorithm).toBe('fixmatch+abc+daso');
    expect(s.heads?.reported).toBe('abc');
    // Selection 'last': the reported test numbers are the abc head's at the last evaluation.
    expect(s.final.balancedAccuracy).toBeCloseTo(s.heads!.test.abc!.balancedAccuracy, 10);
    expect(Object.keys(s.heads!.test).sort()).toEqual(['abc', 'classifier']);
    // Chance is 25% on 4 classes.
    expect(s.heads!.test.abc!.balancedAccuracy).toBeGreaterThan(0.6);
    expect(Object.keys(s.pseudoLabels?.sources ?? {}).sort()).toEqual(['abc', 'final', 'linear', 'semantic']);
    const events = readFileSync(path.join(result.runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const train = events.filter((e) => e.type === 'train');
    expect(train.length).toBeGreaterThan(0);
    expect(train.every((e) => Number.isFinite(e.lossAbc) && e.lossAbc > 0 && Number.isFinite(e.lossAlign))).toBe(true);
    const evals = events.filter((e) => e.type === 'eval');
    expect(evals.every((e) => e.heads?.reported === 'abc')).toBe(true);
    // DASO's m̂ is its estimate of the unlabeled prior: logged with KL to the truth (uniform here).
    const prior = s.priorEstimates!;
    expect(prior.truth).toEqual([0.25, 0.25, 0.25, 0.25]);
    const daso = prior.sources.daso!;
    expect(daso.estimate.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    const kl = daso.estimate.reduce((acc, p) => acc + (p > 0 ? p * Math.log(p / 0.25) : 0), 0);
    expect(daso.kl).toBeCloseTo(kl, 6);
    expect(evals.filter((e) => e.priors?.daso).length).toBeGreaterThan(0);
  }, 120_000);

  it('fixmatch + la learns, and post-hoc LA is still logged (as DASO logs top1_la for every run)', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-la-'));
    const config = resolveRunConfig({ algorithm: 'fixmatch', with: ['la'] }, [tiny(outDir, 'la')]);
    const result = await runExperiment(config, { log: () => {}, dataset: syntheticDataset() });
    expect(result.summary.algorithm).toBe('fixmatch+la');
    expect(result.summary.final.balancedAccuracy).toBeGreaterThan(0.6);
    expect(result.summary.heads).toBeUndefined();
    expect(result.summary.lastModel?.postHocLa).toBeDefined();
  }, 120_000);
});
