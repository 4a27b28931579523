import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { cldLoss, createDebiaspl, debiasedLogits, defineLearner, meanPrediction, MethodRegistry, updateClassPrior, type UnlabeledView } from '../../src/algorithms/index.js';
import { fixmatchMethod } from '../../src/algorithms/fixmatch.js';
import { debiasplMethod } from '../../src/algorithms/debiaspl/debiaspl.js';
import type { StepContext } from '../../src/algorithms/algorithm.js';
import { resolveRunConfig, shippedPresetLayers } from '../../src/config/run-config.js';
import { testBackend } from '../helpers/cli.js';
import { tinySslRun } from '../helpers/tiny-ssl-run.js';
import { useCpuBackend, expectNoLeak } from '../helpers/tf-cpu.js';

let backend: 'torch' | 'cpu' = 'cpu';
beforeAll(async () => {
  await useCpuBackend();
  backend = await testBackend();
});

const round = (xs: ArrayLike<number>, digits = 6): number[] => Array.from(xs, (x) => Number(x.toFixed(digits)));

describe('p̂ and the debiased logits (main_DebiasPL.py update_qhat, causal_inference)', () => {
  it('p̂ moves toward the mean over the BATCH axis (USB#80 took the mean over everything)', () => {
    // Rows are already distributions: log of them as logits gives softmax = the rows.
    // Batch mean per class: [(0.7 + 0.1)/2, (0.2 + 0.2)/2, (0.1 + 0.7)/2] = [0.4, 0.2, 0.4].
    // m = 0.5 from uniform: 0.5·1/3 + 0.5·[0.4, 0.2, 0.4] = [0.366667, 0.266667, 0.366667].
    // The mean over every element is 1/3 (each row sums to 1), so USB's p̂ would stay uniform;
    // a mean over the class axis is per-sample [1/3, 1/3] and has the wrong length.
    const mean = expectNoLeak(() => tf.tidy(() => Array.from(meanPrediction(tf.log(tf.tensor2d([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]])) as tf.Tensor2D).dataSync())));
    expect(round(mean)).toEqual([0.4, 0.2, 0.4]);
    expect(round(updateClassPrior(Float32Array.of(1 / 3, 1 / 3, 1 / 3), mean, 0.5))).toEqual([0.366667, 0.266667, 0.366667]);
    expect(() => updateClassPrior(Float32Array.of(0.5, 0.5), [1 / 3, 1 / 3, 1 / 3], 0.5)).toThrow(/3 classes, p̂ 2/);
  });

  it('z − τ·log p̂', () => {
    // z = [1, 0, 0], p̂ = [0.5, 0.25, 0.25], τ = 0.4: log p̂ = [−0.693147, −1.386294, −1.386294];
    // z − 0.4·log p̂ = [1.277259, 0.554518, 0.554518].
    const z = expectNoLeak(() => tf.tidy(() => Array.from(debiasedLogits(tf.tensor2d([[1, 0, 0]]), Float32Array.of(0.5, 0.25, 0.25), 0.4).dataSync())));
    expect(round(z, 5)).toEqual([1.27726, 0.55452, 0.55452]);
  });

  it('the CLD loss groups by argmin of the weak probabilities and contrasts the strong ones with the group centroids', () => {
    // weak [[0.8, 0.2], [0.3, 0.7]]: groups argmin = [1, 0]; centroids c_0 = [0.3, 0.7], c_1 = [0.8, 0.2].
    // strong [[0.6, 0.4], [0.5, 0.5]]: affinities row 0 [0.46, 0.56], row 1 [0.5, 0.5]; / 0.07.
    // CE row 0 (group 1) = log(1 + e^{(0.46 − 0.56)/0.07}) = log(1 + e^{−1.428571}) = 0.214830;
    // row 1 (group 0) = log 2 = 0.693147; mean 0.453989.
    const l = expectNoLeak(() => tf.tidy(() => cldLoss(tf.tensor2d([[0.6, 0.4], [0.5, 0.5]]), tf.tensor2d([[0.8, 0.2], [0.3, 0.7]])).dataSync()[0]!));
    expect(l).toBeCloseTo(0.453989, 5);
  });
});

describe('the DebiasPL adaptive margin', () => {
  it('shifts the strong logits by τ·log of THIS step\'s updated p̂', () => {
    // C = 3, p̂ uniform, m = 0.5, τ = 0.4; weak logits [ln 2, 0, 0] -> softmax [0.5, 0.25, 0.25];
    // p̂' = 0.5·1/3 + 0.5·[0.5, 0.25, 0.25] = [0.416667, 0.291667, 0.291667];
    // τ·log p̂' = [−0.350188, −0.492858, −0.492858]; z_s = [1, 2, 3] -> [0.649812, 1.507142, 2.507142].
    const addOn = createDebiaspl({ debiasplTau: 0.4, debiasplMomentum: 0.5, debiasplCldWeight: 0 }, { numClasses: 3 });
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => {
      addOn.adjustUnlabeledLogits!(tf.tensor2d([[Math.log(2), 0, 0]]), { step: 0, iterations: 10 });
      const view = { step: 0 } as UnlabeledView;
      return Array.from(addOn.adjustStrongLogits!(tf.tensor2d([[1, 2, 3]]), view).dataSync()).map((v) => Number(v.toFixed(5)));
    });
    expect(out).toEqual([0.64981, 1.50714, 2.50714]);
    addOn.dispose!();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => tf.tidy(() => addOn.adjustStrongLogits!(tf.tensor2d([[1, 2, 3]]), { step: 1 } as UnlabeledView))).toThrow(/before this step/);
  });
});

describe('the DebiasPL add-on', () => {
  const opts = { debiasplTau: 0.4, debiasplMomentum: 0.5, debiasplCldWeight: 0.3 } as const;
  const step = (d: ReturnType<typeof createDebiaspl>, s: number, logits: number[][]): { adjusted: number[]; cld: number } =>
    tf.tidy(() => {
      const z = tf.tensor2d(logits);
      const adjusted = Array.from(d.adjustUnlabeledLogits!(z, { step: s, iterations: 10 }).dataSync());
      const cld = d.lossTerms!({ step: s, logitsStrong: z } as unknown as UnlabeledView, (t) => t).lossCld!.dataSync()[0]!;
      return { adjusted, cld };
    });
  const after = (d: ReturnType<typeof createDebiaspl>, s: number): void => d.afterStep!({ sources: {}, confident: new Uint8Array(0) }, { step: s } as StepContext);
  const logits = [Math.log(0.7), Math.log(0.2), Math.log(0.1)];
  const reversed = [...logits].reverse();

  it('debiases with p̂ from before the step, then updates p̂ from the raw weak probabilities; tensors flat; state round trip', () => {
    const d = createDebiaspl(opts, { numClasses: 3 });
    const before = tf.memory().numTensors;
    // Step 0, p̂ uniform: −τ·log(1/3) is the same for every class, so the logits shift by 0.439445.
    const first = step(d, 0, [logits, reversed]);
    expect(round(first.adjusted, 5)).toEqual(round([...logits, ...reversed].map((x) => x + 0.4 * Math.log(3)), 5));
    expect(Number.isFinite(first.cld)).toBe(true);
    // Not yet updated: the update waits for afterStep.
    expect(round(d.priorEstimate!()!)).toEqual([0.333333, 0.333333, 0.333333]);
    after(d, 0);
    expect(tf.memory().numTensors).toBe(before);
    // As above: [0.366667, 0.266667, 0.366667].
    expect(round(d.priorEstimate!()!)).toEqual([0.366667, 0.266667, 0.366667]);

    const copy = createDebiaspl(opts, { numClasses: 3 });
    copy.restore!(d.state!());
    const a = step(d, 1, [logits]);
    const b = step(copy, 1, [logits]);
    expect(b).toEqual(a);
    // Step 1 debiases with the updated p̂: z_0 − 0.4·log 0.366667 = log 0.7 + 0.401324.
    expect(a.adjusted[0]).toBeCloseTo(Math.log(0.7) - 0.4 * Math.log(0.366667), 5);
    after(d, 1);
    after(copy, 1);
    // 0.5·[0.366667, 0.266667, 0.366667] + 0.5·[0.7, 0.2, 0.1] = [0.533333, 0.233333, 0.233333].
    expect(round(copy.priorEstimate!()!)).toEqual([0.533333, 0.233333, 0.233333]);
    expect(copy.state!().arrays).toEqual(d.state!().arrays);
    expect(tf.memory().numTensors).toBe(before);
    d.dispose!();
    copy.dispose!();
  });

  it('is refused on a learner that forms no pseudo-label distribution', () => {
    const hard = defineLearner({ name: 'hard', kind: 'base', summary: '-', paper: '-', code: '-', sections: [], capabilities: ['confidence-threshold'], create: () => ({}) as never });
    const registry = new MethodRegistry([fixmatchMethod, hard, debiasplMethod]);
    expect(() => registry.assertComposable({ algorithm: 'hard', with: ['debiaspl'] })).toThrow(/debiaspl cannot be added to hard: debiaspl needs a learner that forms a pseudo-label distribution from weak views/);
  });
});

describe('fixmatch --with debiaspl on tiny data', () => {
  it('learns, tensors flat, logs p̂ with its KL to the truth and the CLD term, and checkpoints p̂', async () => {
    const { result, trainEvents, events, tensorCounts } = await tinySslRun({ algorithm: 'fixmatch', with: ['debiaspl'] }, backend, 'debiaspl', { debiasplMomentum: 0.9 });
    expect(result.summary.algorithm).toBe('fixmatch+debiaspl');
    // No tensor growth from step 5 to step 50 (the final evaluation and checkpoint included).
    expect(new Set(tensorCounts).size).toBe(1);
    expect(trainEvents.at(-1)!.lossLabeled).toBeLessThan(0.8);
    expect(Number.isFinite(trainEvents.at(-1)!.lossCld)).toBe(true);
    expect(result.summary.final.balancedAccuracy).toBeGreaterThan(0.5);
    const evals = events.filter((e) => e.type === 'eval');
    const prior = (evals.at(-1)!.priors as Record<string, { estimate: number[]; kl: number }>).debiaspl!;
    expect(prior.estimate.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    // p̂ moved off uniform.
    expect(Math.max(...prior.estimate) - Math.min(...prior.estimate)).toBeGreaterThan(1e-3);
    const { loadCheckpoint } = await import('../../src/train/checkpoint.js');
    const { checkpointPath } = await import('../../src/train/run-checkpoint.js');
    const ckpt = await loadCheckpoint(checkpointPath(result.runDir));
    expect(ckpt.arrays['algorithm/debiaspl/prior']).toHaveLength(4);
  });

  it('composes with daso', async () => {
    const { result } = await tinySslRun({ algorithm: 'fixmatch', with: ['daso', 'debiaspl'] }, backend, 'daso-debiaspl', {
      iterations: 6, evalEvery: 6, checkpointEvery: 6, dasoWarmup: 2, dasoHistogramWindow: 2, plWindow: 3,
    });
    expect(result.summary.algorithm).toBe('fixmatch+daso+debiaspl');
  });
});

describe('the shipped debiaspl presets', () => {
  it('validate, set only debiaspl\'s options and keep the baseline\'s schedule (embedded, CIFAR-10, CIFAR-100)', async () => {
    const got: unknown[] = [];
    for (const dataset of [undefined, 'cifar10', 'cifar100']) {
      const withIt = resolveRunConfig('debiaspl', await shippedPresetLayers({ algorithm: 'fixmatch', with: ['debiaspl'] }, dataset));
      const base = resolveRunConfig('fixmatch', await shippedPresetLayers({ algorithm: 'fixmatch', with: [] }, dataset));
      for (const key of ['iterations', 'evalEvery', 'net', 'lr', 'labeledBatch', 'unlabeledRatio', 'emaDecay'] as const) expect(withIt[key]).toEqual(base[key]);
      got.push((withIt as unknown as Record<string, unknown>).debiasplMomentum);
    }
    expect(got).toEqual([0.99, 0.999, 0.999]);
  });
});
