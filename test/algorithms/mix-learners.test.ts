/** MixMatch and ReMixMatch as learners: their view hooks, refusals, and a real step's tensors. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useCpuBackend } from '../helpers/tf-cpu.js';
import { registerTorchBackend } from '../../src/backend/torch/index.js';
import { registry } from '../../src/algorithms/index.js';
import { resolveRunConfig, type RunConfig } from '../../src/config/run-config.js';
import { createTrainingState, trainStep } from '../../src/train/training-state.js';
import { buildAlgorithm } from '../../src/run/build-algorithm.js';
import type { SslBatch } from '../../src/pipeline/index.js';
import { Rng } from '../../src/util/rng.js';
import { expectUserError } from '../helpers/user-error.js';

// The torch backend where the addon is built (CI): the cpu backend's convolutions take seconds per step.
beforeAll(async () => {
  await useCpuBackend();
  if (process.env.SSL_TEST_BACKEND !== 'cpu' && registerTorchBackend(1).ok) await tf.setBackend('torch');
});

/** A batch of random 8x8x1 pixels: 4 labeled, 4 unlabeled images in `weak` + `strong` views. */
function randomBatch(step: number, views: { weak: number; strong: number }): SslBatch {
  const rng = new Rng(100 + step);
  const bytes = (n: number) => Uint8Array.from({ length: n * 64 }, () => rng.int(256));
  return {
    step,
    labeledImages: bytes(4),
    labeledLabels: Int32Array.from([0, 1, 2, 3]),
    weakImages: bytes(4),
    strongImages: views.strong > 0 ? bytes(4) : new Uint8Array(0),
    extraWeakImages: Array.from({ length: views.weak - 1 }, () => bytes(4)),
    extraStrongImages: Array.from({ length: Math.max(0, views.strong - 1) }, () => bytes(4)),
    unlabeledLabels: Int32Array.from([0, 1, 2, 3]),
    unlabeledIndices: Int32Array.from([0, 1, 2, 3]),
    unlabeledPositions: Int32Array.from([0, 1, 2, 3]),
    height: 8,
    width: 8,
    channels: 1,
  };
}

function config(algorithm: string, withAddOns: string[] = [], values: Record<string, unknown> = {}): RunConfig {
  return resolveRunConfig({ algorithm, with: withAddOns }, [
    { source: 'test', values: { net: 'cnn-small', iterations: 10, gammaL: 4, gammaU: 4, labeledBatch: 4, unlabeledRatio: 1, ...values } },
  ]);
}

describe('the unlabeled-views hook', () => {
  it('MixMatch asks for K weak views and no strong one, ReMixMatch for 1 weak and K strong, FixMatch for one of each', () => {
    expect(registry.learnerHooks(config('mixmatch')).unlabeledViews).toEqual({ weak: 2, strong: 0 });
    expect(registry.learnerHooks(config('mixmatch', [], { mixmatchWeakViews: 3 })).unlabeledViews).toEqual({ weak: 3, strong: 0 });
    expect(registry.learnerHooks(config('remixmatch')).unlabeledViews).toEqual({ weak: 1, strong: 2 });
    expect(registry.learnerHooks(config('fixmatch')).unlabeledViews).toEqual({ weak: 1, strong: 1 });
  });

  it('refuses a labeled loss other than ce (the labeled rows train on mixed soft labels)', () => {
    for (const learner of ['mixmatch', 'remixmatch']) {
      expectUserError(() => config(learner, [], { labeledLoss: "balanced-softmax" }), new RegExp(`${learner} trains the labeled rows on mixed soft labels`));
    }
  });

  it('resolves ReMixMatch\'s alignment `auto` from the data: on for γ_l = γ_u, off otherwise', () => {
    const facts = (gammaU: number) => ({ numClasses: 4, gammaL: 4, gammaU, iterations: 10 });
    const align = (c: RunConfig, gammaU: number): unknown => (registry.resolveValues(c, facts(gammaU)) as Record<string, unknown>).remixmatchDistAlign;
    expect(align(config('remixmatch'), 4)).toBe('on');
    expect(align(config('remixmatch', [], { gammaU: 1 }), 1)).toBe('off');
  });
});

describe('a training step', () => {
  const cases: Array<[string, string[], { weak: number; strong: number }]> = [
    ['mixmatch', [], { weak: 2, strong: 0 }],
    ['mixmatch', ['daso'], { weak: 2, strong: 0 }],
    ['remixmatch', [], { weak: 1, strong: 2 }],
    ['remixmatch', ['daso'], { weak: 1, strong: 2 }],
  ];
  for (const [learner, addOns, views] of cases) {
    it(`${[learner, ...addOns].join(' + ')}: finite terms, one pseudo-label per image, tensor count flat over steps`, () => {
      const c = config(learner, addOns, addOns.includes('daso') ? { dasoWarmup: 1, dasoHistogramWindow: 1 } : {});
      const before = tf.memory().numTensors;
      const state = createTrainingState(c, { numClasses: 4, inputChannels: 1, mean: [0.5], std: [0.25] }, (m) =>
        buildAlgorithm(c, { numClasses: 4, featureDim: m.featureDim, labeledClassCounts: [8, 4, 2, 2], numUnlabeled: 4 }),
      );
      const counts: number[] = [];
      for (let step = 0; step < 3; step++) {
        const { terms, pseudoLabels } = trainStep(state, randomBatch(step, views), step);
        for (const [k, v] of Object.entries(terms)) expect(Number.isFinite(v), k).toBe(true);
        expect(pseudoLabels?.sources.final).toHaveLength(4);
        expect(Array.from(pseudoLabels?.confident ?? [])).toEqual([1, 1, 1, 1]);
        if (addOns.includes('daso') && step >= 1) expect(pseudoLabels?.sources.semantic).toHaveLength(4);
        counts.push(tf.memory().numTensors);
      }
      expect(new Set(counts.slice(1)).size).toBe(1);
      state.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('a batch without the views the learner asked for fails naming them', () => {
    const c = config('remixmatch');
    const state = createTrainingState(c, { numClasses: 4, inputChannels: 1, mean: [0.5], std: [0.25] }, (m) =>
      buildAlgorithm(c, { numClasses: 4, featureDim: m.featureDim, labeledClassCounts: [8, 4, 2, 2], numUnlabeled: 4 }),
    );
    expect(() => trainStep(state, randomBatch(0, { weak: 1, strong: 1 }), 0)).toThrow(/remixmatch: the batch has 1 strong views, expected K = 2/);
    state.dispose();
  });
});
