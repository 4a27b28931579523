/** MixMatch and ReMixMatch as learners: their view hooks, refusals, and a real step's tensors. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useCpuBackend } from '../helpers/tf-cpu.js';
import { registerTorchBackend } from '../../src/backend/torch/index.js';
import { z } from 'zod';
import { MethodRegistry, defineAddOn, registry, type LearnerCapability } from '../../src/algorithms/index.js';
import { mixmatchMethod } from '../../src/algorithms/mixmatch/mixmatch.js';
import { remixmatchMethod } from '../../src/algorithms/remixmatch/remixmatch.js';
import { option } from '../../src/options/option-spec.js';
import { defaultPresetPath, loadPreset, resolveRunConfig, shippedPresetLayers, type RunConfig } from '../../src/config/run-config.js';
import { createTrainingState, trainStep } from '../../src/train/training-state.js';
import { buildAlgorithm } from '../../src/run/build-algorithm.js';
import { toInputTensor, type SslBatch } from '../../src/pipeline/index.js';
import { softmaxCrossEntropy } from '../../src/ops/cross-entropy.js';
import { Rng } from '../../src/util/rng.js';
import { expectUserError } from '../helpers/user-error.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';

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

/** One fixed batch of the synthetic 8x8 patterns: one labeled and one unlabeled image per class, each view a copy. */
function patternBatch(views: { weak: number; strong: number }): SslBatch {
  const set = syntheticDataset({ size: 8, trainPerClass: 2, testPerClass: 1 }).train;
  const pick = (from: number) => set.images.slice(from * 64, (from + 4) * 64);
  return {
    ...randomBatch(0, views),
    labeledImages: pick(0),
    labeledLabels: set.labels.slice(0, 4),
    weakImages: pick(4),
    strongImages: views.strong > 0 ? pick(4) : new Uint8Array(0),
    extraWeakImages: Array.from({ length: views.weak - 1 }, () => pick(4)),
    extraStrongImages: Array.from({ length: Math.max(0, views.strong - 1) }, () => pick(4)),
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

  it('refuses the add-ons that need what a mixup learner lacks, naming why; takes DASO, LA, and ABC on ReMixMatch', () => {
    expectUserError(() => config('mixmatch', ['abc']), /abc cannot be added to mixmatch: abc needs a learner that runs the student on a weak and a strong view.*Use abc with .*remixmatch/);
    for (const learner of ['mixmatch', 'remixmatch']) for (const addOns of [['daso'], ['la'], ['la', 'daso']]) expect(() => config(learner, addOns)).not.toThrow();
    expect(() => config('remixmatch', ['abc', 'daso'])).not.toThrow();
    const needing = (need: LearnerCapability) =>
      defineAddOn({ name: `needs-${need}`, kind: 'add-on', summary: '-', paper: '-', code: '-', defaultBase: 'mixmatch', requires: [need], sections: [{ [`x${need.length}`]: option(z.number(), 0, '-') }], create: () => ({ name: `needs-${need}` }) });
    const needs = (['confidence-threshold', 'unlabeled-sample-weights', 'labeled-sample-weights', 'unlabeled-logits-loss'] as const).map(needing);
    const classWeights = needing('class-loss-weights');
    const local = new MethodRegistry([mixmatchMethod, remixmatchMethod, ...needs, classWeights]);
    // An add-on needing a confidence mask (Adsh), per-sample weights or a CE on the strong logits (DebiasPL) is refused on both;
    // class weights (SAW) only on MixMatch (ReMixMatch weights the classes inside its mixed soft targets, as SAW_SSL).
    expectUserError(() => local.assertComposable({ algorithm: 'mixmatch', with: [classWeights.name] }), new RegExp(`${classWeights.name} cannot be added to mixmatch`));
    expect(() => local.assertComposable({ algorithm: 'remixmatch', with: [classWeights.name] })).not.toThrow();
    for (const learner of ['mixmatch', 'remixmatch']) {
      for (const addOn of needs) {
        expectUserError(() => local.assertComposable({ algorithm: learner, with: [addOn.name] }), new RegExp(`${addOn.name} cannot be added to ${learner}: ${addOn.name} needs a learner that`));
      }
    }
  });

  it('ReMixMatch adds a 4-way rotation head to the model; MixMatch adds none', () => {
    expect(registry.learnerHooks(config('remixmatch')).model.auxHeads).toEqual([{ name: 'rotation', outputs: 4 }]);
    expect(registry.learnerHooks(config('mixmatch')).model.auxHeads).toBeUndefined();
  });

  it('resolves ReMixMatch\'s alignment `auto` from the data: on for γ_l = γ_u, off otherwise', () => {
    const facts = (gammaU: number) => ({ numClasses: 4, gammaL: 4, gammaU, iterations: 10 });
    const align = (c: RunConfig, gammaU: number): unknown => (registry.resolveValues(c, facts(gammaU)) as Record<string, unknown>).remixmatchDistAlign;
    expect(align(config('remixmatch'), 4)).toBe('on');
    expect(align(config('remixmatch', [], { gammaU: 1 }), 1)).toBe('off');
  });
});

describe('presets', () => {
  it('pipelines/{mixmatch,remixmatch}.yaml share every schedule value of pipelines/fixmatch.yaml and set μ = 1 (DASO\'s ratio for both)', async () => {
    const { algorithm: _a, ...schedule } = await loadPreset(defaultPresetPath('fixmatch')!);
    for (const learner of ['mixmatch', 'remixmatch']) {
      const preset = await loadPreset(defaultPresetPath(learner)!);
      expect(preset).toEqual({ algorithm: learner, ...schedule, unlabeledRatio: 1, unlabeledRampup: 0.016 });
      // `--with daso` layers only DASO's own options on top.
      const c = resolveRunConfig({ algorithm: learner, with: ['daso'] }, await shippedPresetLayers({ algorithm: learner, with: ['daso'] }));
      expect(c).toMatchObject({ ...schedule, unlabeledRatio: 1, dasoWarmup: 160 });
    }
  });
});

describe('a training step', () => {
  const cases: Array<[string, string[], { weak: number; strong: number }]> = [
    ['mixmatch', [], { weak: 2, strong: 0 }],
    ['mixmatch', ['daso'], { weak: 2, strong: 0 }],
    ['remixmatch', [], { weak: 1, strong: 2 }],
    ['remixmatch', ['daso'], { weak: 1, strong: 2 }],
    ['mixmatch', ['la'], { weak: 2, strong: 0 }],
    ['remixmatch', ['la', 'abc', 'daso'], { weak: 1, strong: 2 }],
  ];
  for (const [learner, addOns, views] of cases) {
    it(`${[learner, ...addOns].join(' + ')}: finite terms, one pseudo-label per image, tensor count flat over steps`, () => {
      const c = config(learner, addOns, addOns.includes('daso') ? { dasoWarmup: 1, dasoHistogramWindow: 1 } : {});
      const before = tf.memory().numTensors;
      const state = createTrainingState(c, { numClasses: 4, inputChannels: 1, mean: [0.5], std: [0.25] }, (m) =>
        buildAlgorithm(c, { numClasses: 4, featureDim: m.featureDim, labeledClassCounts: [8, 4, 2, 2], numUnlabeled: 4 }),
      );
      const rotation = state.model.params.find((p) => p.name === 'aux.rotation.weight');
      expect(rotation !== undefined).toBe(learner === 'remixmatch');
      const rotationBefore = rotation ? Array.from(rotation.variable.dataSync()) : [];
      const counts: number[] = [];
      for (let step = 0; step < 3; step++) {
        const { terms, pseudoLabels } = trainStep(state, randomBatch(step, views), step);
        for (const [k, v] of Object.entries(terms)) expect(Number.isFinite(v), k).toBe(true);
        if (learner === 'remixmatch') expect(terms.lossRotation).toBeGreaterThan(0);
        if (addOns.includes('abc')) expect(terms.lossAbc).toBeGreaterThanOrEqual(0);
        expect(pseudoLabels?.sources.final).toHaveLength(4);
        expect(Array.from(pseudoLabels?.confident ?? [])).toEqual([1, 1, 1, 1]);
        if (addOns.includes('daso') && step >= 1) expect(pseudoLabels?.sources.semantic).toHaveLength(4);
        counts.push(tf.memory().numTensors);
      }
      expect(new Set(counts.slice(1)).size).toBe(1);
      // The rotation loss trains its head (and the EMA copy carries it).
      if (rotation) expect(Array.from(rotation.variable.dataSync())).not.toEqual(rotationBefore);
      if (rotation) expect(state.ema.model.params.some((p) => p.name === 'aux.rotation.weight')).toBe(true);
      state.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  // MixMatch's L2 term averages over the classes: DASO's λ_u = 100 on 10 classes weighs as 40 on 4;
  // and a 12-step run ramps it up over all of it (DASO: 4000 steps). At full weight from step 1 the
  // consistency term throws a 4-image fit off before it forms (the labeled CE climbs to 3.7).
  const mixmatchTiny = { mixmatchLambdaU: 40, unlabeledRampup: 1 };
  const lowering = [
    ['mixmatch', []],
    ['mixmatch', ['daso']],
    ['remixmatch', []],
    ['remixmatch', ['daso']],
    // Every add-on the DASO paper pairs with ReMixMatch, and SAW (SAW_SSL train_remix_cifar10.py);
    // DARP refines only after its warm-up, which its own tiny run covers (test/algorithms/darp.test.ts).
    ['remixmatch', ['la']],
    ['remixmatch', ['abc']],
    ['remixmatch', ['saw']],
    ['remixmatch', ['crest']],
    ['remixmatch', ['abc', 'daso']],
  ] as const;
  for (const [learner, addOns] of lowering) {
    it(`${[learner, ...addOns].join(' + ')}: the labeled loss goes down over 12 steps on one batch`, () => {
      // The per-step loss is over MIXED rows and swings with each step's λ and partners; what the
      // learner must do is fit its labeled images: their unmixed CE starts near ln 4 = 1.386
      // (small logits) and falls. Patterned images, so that DASO's prototypes mean something.
      const values = {
        ...((addOns as readonly string[]).includes('daso') ? { dasoWarmup: 4, dasoHistogramWindow: 2 } : {}),
        ...((addOns as readonly string[]).includes('saw') ? { sawUpdateEvery: 4 } : {}),
        // Two generations of 6 steps; the ramp-up restarts per generation (rm_crest.py), so 0.8 of
        // a generation ramps over the same 4.8 steps as 0.4 of the whole 12-step run does.
        ...((addOns as readonly string[]).includes('crest') ? { crestGenerations: 2, unlabeledRampup: 0.8 } : {}),
        ...(learner === 'mixmatch' ? mixmatchTiny : {}),
        iterations: 12,
      };
      const c = config(learner, [...addOns], values);
      const state = createTrainingState(c, { numClasses: 4, inputChannels: 1, mean: [0.5], std: [0.25] }, (m) =>
        buildAlgorithm(c, { numClasses: 4, featureDim: m.featureDim, labeledClassCounts: [8, 4, 2, 2], numUnlabeled: 4 }),
      );
      const batch = patternBatch(registry.learnerHooks(c).unlabeledViews);
      const labeledLoss = (): number =>
        tf.tidy(() => {
          const x = toInputTensor(batch.labeledImages, 4, 8, 8, 1, [0.5], [0.25]);
          const { logits } = state.model.forward(x, false);
          return tf.mean(softmaxCrossEntropy(logits, tf.tensor1d(batch.labeledLabels, 'int32'))).dataSync()[0];
        });
      const before = labeledLoss();
      for (let step = 0; step < 12; step++) trainStep(state, batch, step);
      const after = labeledLoss();
      state.dispose();
      expect(before).toBeGreaterThan(1.2);
      expect(after).toBeLessThan(0.25 * before);
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
