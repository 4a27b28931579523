import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { adaptiveThresholds, createAdsh, defineLearner, MethodRegistry, roundHalfEven, type UnlabeledView } from '../../src/algorithms/index.js';
import { fixmatchMethod, maskedPseudoLabelLoss } from '../../src/algorithms/fixmatch.js';
import { adshMethod } from '../../src/algorithms/adsh/adsh.js';
import type { StepContext, TrainBatch } from '../../src/algorithms/algorithm.js';
import type { Classifier } from '../../src/models/model.js';
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

describe('adaptiveThresholds (Class-Imbalanced-SSL train.py update_s)', () => {
  it('the other classes take the confidence at the rank where the head class crosses τ_1', () => {
    // Head (class 0) confidences, sorted: [0.99, 0.97, 0.9, 0.8]: 2 of 4 reach τ_1 = 0.95, ρ = 0.5.
    // Class 1, sorted [0.9, 0.7, 0.6, 0.5, 0.4, 0.3]: index round(6·0.5 − 1) = 2 -> s_1 = 0.6.
    // Class 2, sorted [0.8, 0.55, 0.5]: 3·0.5 − 1 = 0.5 rounds to 0 (numpy, half to even) -> s_2 = 0.8
    // (round-half-up would give index 1, 0.55). Class 3 has no prediction: keeps its 0.7.
    // The head keeps τ_1; an image with prediction −1 was not scored and counts nowhere.
    const conf = Float32Array.of(0.9, 0.99, 0.3, 0.8, 0.5, 0.97, 0.55, 0.7, 0.8, 0.5, 0.9, 0.6, 0.4, 0.1);
    const pred = Int32Array.of(1, 0, 1, 0, 2, 0, 2, 1, 2, 1, 0, 1, 1, -1);
    const previous = Float32Array.of(0.95, 0.95, 0.95, 0.7);
    expect(round(adaptiveThresholds(conf, pred, previous, 0.95, 0), 5)).toEqual([0.95, 0.6, 0.8, 0.7]);
    expect(round(previous, 5)).toEqual([0.95, 0.95, 0.95, 0.7]);
  });

  it('caps at τ_1, uses the most frequent labeled class as head, and keeps ρ = 1 when the head never reaches τ_1 (official loop)', () => {
    // Head = class 1 here: its confidences [0.99, 0.96] all reach τ_1 = 0.95, ρ = 1:
    // class 0 takes its LAST confidence (index 2·1 − 1 = 1): 0.97, capped at 0.95.
    expect(round(adaptiveThresholds(Float32Array.of(0.99, 0.97, 0.98, 0.96), Int32Array.of(1, 0, 0, 1), Float32Array.of(0.9, 0.9), 0.95, 1), 5)).toEqual([0.95, 0.9]);
    // The head's best is 0.9 < τ_1: the official ρ stays 1, so class 1 takes its lowest confidence 0.2.
    expect(round(adaptiveThresholds(Float32Array.of(0.9, 0.6, 0.2), Int32Array.of(0, 1, 1), Float32Array.of(0.95, 0.95), 0.95, 0), 5)).toEqual([0.95, 0.2]);
  });

  it('rounds halves to even, as np.round', () => {
    expect([0.5, 1.5, 2.5, 2.4, 2.6, -1.5].map(roundHalfEven)).toEqual([0, 2, 2, 2, 3, -2]);
  });
});

/** A stand-in student whose eval-mode logits are the batch's "images" themselves ([B, 1, 1, C]). */
function fakeStudent(): Classifier {
  return { forward: (x: tf.Tensor4D, training: boolean) => {
    if (training) throw new Error('adsh scores in eval mode');
    const logits = tf.reshape(x, [x.shape[0], x.shape[3]]) as tf.Tensor2D;
    return { logits, features: logits };
  } } as unknown as Classifier;
}

describe('the Adsh add-on', () => {
  const opts = { adshTau1: 0.95, adshUpdateEvery: 4, adshStart: 4 } as const;
  const ctx = { numClasses: 3, labeledClassCounts: [10, 5, 2], numUnlabeled: 4 };

  it('pseudo-labels argmax p/s, kept when max p/s ≥ 1 (ADSH.forward), through the target and threshold points', () => {
    const adsh = createAdsh(opts, ctx);
    adsh.restore!({ json: {}, arrays: { thresholds: Float32Array.of(0.95, 0.4, 0.8), confidences: new Float32Array(4), predictions: new Int32Array(4).fill(-1) } });
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      // s = [0.95, 0.4, 0.8].
      // p = [0.55, 0.42, 0.03]: r = p/s = [0.578947, 1.05, 0.0375] -> label 1 (not argmax p = 0), kept (1.05 ≥ 1).
      // p = [0.5, 0.35, 0.15]:  r = [0.526316, 0.875, 0.1875] -> label 1, masked (0.875 < 1).
      // p = [0.97, 0.02, 0.01]: r = [1.021053, 0.05, 0.0125] -> label 0, kept.
      const p = tf.tensor2d([[0.55, 0.42, 0.03], [0.5, 0.35, 0.15], [0.97, 0.02, 0.01]]);
      const view = {} as UnlabeledView;
      const target = adsh.transformTarget!(p, view);
      // Row 0: t = r/Σr = [0.578947, 1.05, 0.0375]/1.666447; threshold Σ s·t = 1/Σr = 0.600079.
      expect(round(target.dataSync().slice(0, 3), 5)).toEqual([0.34741, 0.63008, 0.0225]);
      const thresholds = adsh.thresholds!(target, view);
      expect(round(thresholds.dataSync(), 5)[0]).toBeCloseTo(0.600079, 5);
      const { final, mask } = maskedPseudoLabelLoss(tf.zeros([3, 3]) as tf.Tensor2D, target, thresholds);
      expect(Array.from(final.dataSync())).toEqual([1, 1, 0]);
      expect(Array.from(mask.dataSync())).toEqual([1, 0, 1]);
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('before the first update every class has τ_1: the learner\'s FixMatch mask', () => {
    const adsh = createAdsh(opts, ctx);
    tf.tidy(() => {
      const p = tf.tensor2d([[0.96, 0.03, 0.01], [0.5, 0.45, 0.05]]);
      const t = adsh.transformTarget!(p, {} as UnlabeledView);
      expect(round(t.dataSync(), 5)).toEqual(round(p.dataSync(), 5));
      expect(round(adsh.thresholds!(t, {} as UnlabeledView).dataSync(), 5)).toEqual([0.95, 0.95]);
    });
  });

  it('scores the weak views of the last pass before each update with the student in eval mode, and checkpoints exactly', () => {
    // 4 unlabeled images, batches of 2: a pass is 2 steps; updates at steps 4, 8: scoring at 2, 3, 6, 7.
    const model = fakeStudent();
    const run = (adsh: ReturnType<typeof createAdsh>, from: number, to: number, scored: number[]): void => {
      for (let step = from; step < to; step++) {
        // Images [0, 1] on even steps, [2, 3] on odd ones; probabilities ~ softmax of these logits.
        const logits = step % 2 === 0 ? [[4, 0, 0], [0, 3, 0]] : [[0, 1, 0], [0, 0, 2]];
        const weakImages = tf.tensor4d(logits.flat(), [2, 1, 1, 3]);
        const calls: number[] = [];
        const spy = { ...model, forward: (x: tf.Tensor4D, training: boolean) => (calls.push(step), model.forward(x, training)) } as Classifier;
        adsh.prepare!({ weakImages, unlabeledPositions: step % 2 === 0 ? Int32Array.of(0, 1) : Int32Array.of(2, 3) } as unknown as TrainBatch, { step, iterations: 12, model: spy } as unknown as StepContext);
        if (calls.length > 0) scored.push(step);
        weakImages.dispose();
      }
    };
    const adsh = createAdsh(opts, ctx);
    const scored: number[] = [];
    const before = tf.memory().numTensors;
    run(adsh, 0, 5, scored);
    expect(tf.memory().numTensors).toBe(before);
    expect(scored).toEqual([2, 3]);
    // At step 4 the pass is used: head 0 has image 0 (softmax [4,0,0] max 0.9647 ≥ 0.95, ρ = 1);
    // class 1: images 1 (0.9094) and 2 (softmax [0,1,0] max 0.5761): index 2·1 − 1 = 1 -> 0.5761;
    // class 2: image 3 (softmax [0,0,2] max 0.7870) -> 0.7870.
    const s = adsh.state!().arrays.thresholds as Float32Array;
    expect(round(s, 4)).toEqual([0.95, 0.5761, 0.787]);
    expect(Array.from(adsh.state!().arrays.predictions as Int32Array)).toEqual([-1, -1, -1, -1]);

    const copy = createAdsh(opts, ctx);
    copy.restore!(adsh.state!());
    const a: number[] = [];
    const b: number[] = [];
    run(adsh, 5, 9, a);
    run(copy, 5, 9, b);
    expect(a).toEqual([6, 7]);
    expect(b).toEqual(a);
    expect(copy.state!().arrays).toEqual(adsh.state!().arrays);
  });

  it('is refused on a learner without a confidence threshold, naming why', () => {
    const soft = defineLearner({ name: 'soft', kind: 'base', summary: '-', paper: '-', code: '-', sections: [], capabilities: ['pseudo-label-target', 'unlabeled-sample-weights'], create: () => ({}) as never });
    const registry = new MethodRegistry([fixmatchMethod, soft, adshMethod]);
    expect(() => registry.assertComposable({ algorithm: 'soft', with: ['adsh'] })).toThrow(
      /adsh cannot be added to soft: adsh needs a learner that masks its pseudo-labels by a confidence threshold, which add-ons may set per sample, and soft does not/,
    );
    expect(() => registry.assertComposable({ algorithm: 'fixmatch', with: ['adsh'] })).not.toThrow();
  });
});

describe('fixmatch --with adsh on tiny data', () => {
  it('learns with the adaptive thresholds, tensors flat, and checkpoints them', async () => {
    const { result, trainEvents, tensorCounts } = await tinySslRun({ algorithm: 'fixmatch', with: ['adsh'] }, backend, 'adsh', { adshStart: 20, adshUpdateEvery: 10 });
    expect(result.summary.algorithm).toBe('fixmatch+adsh');
    // No tensor growth from step 5 to step 50 (the final evaluation and checkpoint included).
    expect(new Set(tensorCounts).size).toBe(1);
    expect(trainEvents.at(-1)!.lossLabeled).toBeLessThan(0.8);
    expect(result.summary.final.balancedAccuracy).toBeGreaterThan(0.5);
    const { loadCheckpoint } = await import('../../src/train/checkpoint.js');
    const { checkpointPath } = await import('../../src/train/run-checkpoint.js');
    const ckpt = await loadCheckpoint(checkpointPath(result.runDir));
    const s = Array.from(ckpt.arrays['algorithm/adsh/thresholds']!);
    expect(s).toHaveLength(4);
    // Updated at steps 20, 30, 40: the head keeps τ_1, the others at most τ_1.
    expect(s.every((x) => x > 0 && x <= 0.95 + 1e-6)).toBe(true);
  });

  it('composes with daso', async () => {
    const { result } = await tinySslRun({ algorithm: 'fixmatch', with: ['daso', 'adsh'] }, backend, 'daso-adsh', {
      iterations: 6, evalEvery: 6, checkpointEvery: 6, adshStart: 3, adshUpdateEvery: 2, dasoWarmup: 2, dasoHistogramWindow: 2, plWindow: 3,
    });
    expect(result.summary.algorithm).toBe('fixmatch+daso+adsh');
  });
});

describe('the shipped adsh presets', () => {
  it('validate, set only adsh\'s options and keep the baseline\'s schedule (embedded, CIFAR-10, CIFAR-100)', async () => {
    const got: unknown[] = [];
    for (const dataset of [undefined, 'cifar10', 'cifar100']) {
      const withIt = resolveRunConfig('adsh', await shippedPresetLayers({ algorithm: 'fixmatch', with: ['adsh'] }, dataset));
      const base = resolveRunConfig('fixmatch', await shippedPresetLayers({ algorithm: 'fixmatch', with: [] }, dataset));
      for (const key of ['iterations', 'evalEvery', 'net', 'lr', 'labeledBatch', 'unlabeledRatio', 'emaDecay'] as const) expect(withIt[key]).toEqual(base[key]);
      got.push((withIt as unknown as Record<string, unknown>).adshStart);
    }
    expect(got).toEqual([400, 1024, 1024]);
  });
});
