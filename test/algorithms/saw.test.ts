import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { composeAddOns, createSaw, defineLearner, MethodRegistry, smoothedClassWeights, type UnlabeledView } from '../../src/algorithms/index.js';
import { fixmatchMethod } from '../../src/algorithms/fixmatch.js';
import { sawMethod } from '../../src/algorithms/saw/saw.js';
import type { StepContext, TrainBatch } from '../../src/algorithms/algorithm.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { checkpointPath } from '../../src/train/run-checkpoint.js';
import { resolveRunConfig, shippedPresetLayers } from '../../src/config/run-config.js';
import { testBackend } from '../helpers/cli.js';
import { tinySslRun } from '../helpers/tiny-ssl-run.js';
import { useCpuBackend } from '../helpers/tf-cpu.js';

let backend: 'torch' | 'cpu' = 'cpu';
beforeAll(async () => {
  await useCpuBackend();
  backend = await testBackend();
});

const round = (xs: ArrayLike<number>, digits = 6): number[] => Array.from(xs, (x) => Number(x.toFixed(digits)));

describe('smoothedClassWeights (SAW_SSL imbOptim/classWeights.py, --effective, --normalize 1)', () => {
  it('w_c = (1 − β)/(1 − β^n_c), rescaled to sum to C', () => {
    // n = [4, 2, 1], β = 0.5: 1 − β^n = [0.9375, 0.75, 0.5]; (1 − β)/… = [0.533333, 0.666667, 1];
    // Σ = 2.2; × 3 / 2.2 = [0.727273, 0.909091, 1.363636].
    expect(round(smoothedClassWeights([4, 2, 1], 0.5))).toEqual([0.727273, 0.909091, 1.363636]);
    // The official β = 0.99 on n = [100, 10, 1]: 1 − 0.99^n = [0.633968, 0.095618, 0.01];
    // 0.01/… = [0.015774, 0.104583, 1]; Σ = 1.120357; × 3/Σ = [0.042237, 0.280044, 2.677719].
    expect(round(smoothedClassWeights([100, 10, 1], 0.99))).toEqual([0.042237, 0.280044, 2.677719]);
  });

  it('β auto = (N − 1)/N with N the mean count (USB); a zero count counts as 1', () => {
    // N = 7/3, β = 4/7: 1 − β^n = [0.893378, 0.673469, 0.428571]; 3/7 / … = [0.479718, 0.636364, 1];
    // Σ = 2.116082; × 3/Σ = [0.680106, 0.902181, 1.417713].
    expect(round(smoothedClassWeights([4, 2, 1], 'auto'), 5)).toEqual([0.68011, 0.90218, 1.41771]);
    // n = [3, 0]: N = 1.5 (zeros included), β = 1/3; n → [3, 1]: (2/3)/(26/27) = 0.692308 and 1;
    // Σ = 1.692308; × 2/Σ = [0.818182, 1.181818].
    expect(round(smoothedClassWeights([3, 0], 'auto'))).toEqual([0.818182, 1.181818]);
    // Fewer samples than classes: β ≤ 0, uniform.
    expect(smoothedClassWeights([1, 0, 0], 'auto')).toEqual([1, 1, 1]);
  });
});

/** A fake step of `n` unlabeled images at the given positions. */
function batchAt(positions: number[]): TrainBatch {
  return { unlabeledPositions: Int32Array.from(positions) } as unknown as TrainBatch;
}
const stepCtx = (step: number): StepContext => ({ step, iterations: 100 }) as unknown as StepContext;

describe('the SAW add-on', () => {
  const counts = [4, 2, 1];
  const opts = { sawBeta: 0.5, sawUpdateEvery: 2 } as const;

  it('weights labeled samples by their class and unlabeled ones by their final pseudo-label, updated from the latest linear pseudo-labels', () => {
    const saw = createSaw(opts, { numClasses: 3, labeledClassCounts: counts, numUnlabeled: 4 });
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const wl = composeAddOns([saw]).labeledWeights(tf.tensor1d([2, 0, 1], 'int32'), { step: 0, iterations: 100 })!;
      expect(round(wl.dataSync())).toEqual([1.363636, 0.727273, 0.909091]);
      // Before any update every unlabeled weight is 1.
      const target = tf.tensor2d([[0.1, 0.2, 0.7], [0.9, 0.05, 0.05]]);
      expect(Array.from(composeAddOns([saw]).unlabeledWeights(target, {} as UnlabeledView)!.dataSync())).toEqual([1, 1]);
    });
    expect(saw.priorEstimate!()).toBeNull();
    // Step 0 sees images 0, 1 (linear 0, 0); step 1 sees 2, 0 (linear 1, 1): image 0 now says 1.
    saw.prepare!(batchAt([0, 1]), stepCtx(0));
    saw.afterStep!({ sources: { final: Int32Array.of(0, 0), linear: Int32Array.of(0, 0) }, confident: Uint8Array.of(1, 1) }, stepCtx(0));
    saw.prepare!(batchAt([2, 0]), stepCtx(1));
    saw.afterStep!({ sources: { final: Int32Array.of(2, 2), linear: Int32Array.of(1, 1) }, confident: Uint8Array.of(1, 1) }, stepCtx(1));
    // (1 + 1) % 2 == 0: update from the seen images only (3 never seen): counts [1, 2, 0] with β = 0.5:
    // n → [1, 2, 1]: 0.5/[0.5, 0.75, 0.5] = [1, 0.666667, 1]; Σ = 2.666667; × 3/Σ = [1.125, 0.75, 1.125].
    expect(round(saw.priorEstimate!()!)).toEqual([0.333333, 0.666667, 0]);
    tf.tidy(() => {
      const target = tf.tensor2d([[0.1, 0.2, 0.7], [0.9, 0.05, 0.05], [0.2, 0.5, 0.3]]);
      expect(round(composeAddOns([saw]).unlabeledWeights(target, {} as UnlabeledView)!.dataSync())).toEqual([1.125, 1.125, 0.75]);
    });
    expect(tf.memory().numTensors).toBe(before);

    // state() / restore(): a fresh add-on continues identically.
    const copy = createSaw(opts, { numClasses: 3, labeledClassCounts: counts, numUnlabeled: 4 });
    copy.restore!(saw.state!());
    expect(copy.priorEstimate!()).toEqual(saw.priorEstimate!());
    for (const a of [saw, copy]) {
      a.prepare!(batchAt([3, 1]), stepCtx(2));
      a.afterStep!({ sources: { final: Int32Array.of(2, 2), linear: Int32Array.of(2, 2) }, confident: Uint8Array.of(1, 1) }, stepCtx(2));
      a.prepare!(batchAt([2]), stepCtx(3));
      a.afterStep!({ sources: { final: Int32Array.of(2), linear: Int32Array.of(2) }, confident: Uint8Array.of(1) }, stepCtx(3));
    }
    // Latest per image: [1, 2, 2, 2] (image 0 still says 1): counts [0, 1, 3].
    expect(round(copy.priorEstimate!()!)).toEqual([0, 0.25, 0.75]);
    expect(copy.state!().arrays).toEqual(saw.state!().arrays);
  });

  it('refuses a labeled loss other than ce and --drw, naming why', () => {
    expect(() => resolveRunConfig('saw', [{ source: 'test', values: { labeledLoss: 'focal' } }])).toThrow(/--loss: saw weights the labeled cross-entropy per class.*--loss focal would never be applied/);
    expect(() => resolveRunConfig('saw', [{ source: 'test', values: { drw: true, lrSchedule: 'step', lrMilestones: [0.8] } }])).toThrow(/--drw: saw's class weights replace the labeled-loss slot/);
    expect(resolveRunConfig('saw', []).with).toEqual(['saw']);
  });

  it('is refused on a learner that does not weight its losses per class', () => {
    const unweighted = defineLearner({ name: 'unweighted', kind: 'base', summary: '-', paper: '-', code: '-', sections: [], capabilities: ['pseudo-label-target', 'unlabeled-sample-weights'], create: () => ({}) as never });
    const registry = new MethodRegistry([fixmatchMethod, unweighted, sawMethod]);
    expect(() => registry.assertComposable({ algorithm: 'unweighted', with: ['saw'] })).toThrow(
      /saw cannot be added to unweighted: saw needs a learner that weights its labeled and unlabeled losses per class/,
    );
    expect(() => registry.assertComposable({ algorithm: 'fixmatch', with: ['saw'] })).not.toThrow();
  });
});

describe('fixmatch --with saw on tiny data', () => {
  it('learns, tensors flat, estimates the unlabeled distribution and checkpoints its state', async () => {
    const { result, trainEvents, events, tensorCounts } = await tinySslRun({ algorithm: 'fixmatch', with: ['saw'] }, backend, 'saw', { sawUpdateEvery: 10 });
    expect(result.summary.algorithm).toBe('fixmatch+saw');
    // No tensor growth from step 5 to step 50 (the final evaluation and checkpoint included).
    expect(new Set(tensorCounts).size).toBe(1);
    // The weighted labeled CE starts near ln 4 = 1.386 and falls; chance is 25% on 4 classes.
    expect(trainEvents.at(-1)!.lossLabeled).toBeLessThan(0.8);
    expect(result.summary.final.balancedAccuracy).toBeGreaterThan(0.5);
    const priors = events.filter((e) => e.type === 'eval').map((e) => (e.priors as Record<string, { estimate: number[]; kl: number }>).saw);
    expect(priors.at(-1)!.estimate).toHaveLength(4);
    expect(Number.isFinite(priors.at(-1)!.kl)).toBe(true);
    const ckpt = await loadCheckpoint(checkpointPath(result.runDir));
    expect(ckpt.arrays['algorithm/saw/latest']).toHaveLength(120);
  });

  it('composes with daso', async () => {
    const { result } = await tinySslRun({ algorithm: 'fixmatch', with: ['daso', 'saw'] }, backend, 'daso-saw', {
      iterations: 6, evalEvery: 6, checkpointEvery: 6, sawUpdateEvery: 3, dasoWarmup: 2, dasoHistogramWindow: 2, plWindow: 3,
    });
    expect(result.summary.algorithm).toBe('fixmatch+daso+saw');
    expect(Object.keys(result.summary.pseudoLabels?.sources ?? {}).sort()).toEqual(['final', 'linear', 'semantic']);
  });
});

describe('the shipped saw presets', () => {
  it('validate, set only saw\'s options and keep the baseline\'s schedule (embedded, CIFAR-10, CIFAR-100)', async () => {
    const got: unknown[] = [];
    for (const dataset of [undefined, 'cifar10', 'cifar100']) {
      const withIt = resolveRunConfig('saw', await shippedPresetLayers({ algorithm: 'fixmatch', with: ['saw'] }, dataset));
      const base = resolveRunConfig('fixmatch', await shippedPresetLayers({ algorithm: 'fixmatch', with: [] }, dataset));
      for (const key of ['iterations', 'evalEvery', 'net', 'lr', 'labeledBatch', 'unlabeledRatio', 'emaDecay'] as const) expect(withIt[key]).toEqual(base[key]);
      got.push((withIt as unknown as Record<string, unknown>).sawUpdateEvery);
    }
    expect(got).toEqual([80, 500, 500]);
  });
});
