import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { composeAddOns, defineAddOn, defineLearner, MethodRegistry, type AddOn, type UnlabeledView } from '../../src/algorithms/index.js';
import { fixmatchMethod, maskedPseudoLabelLoss } from '../../src/algorithms/fixmatch.js';
import type { UserError } from '../../src/errors.js';
import { option } from '../../src/options/option-spec.js';
import { useCpuBackend, expectNoLeak } from '../helpers/tf-cpu.js';

beforeAll(useCpuBackend);

/** Mixes the target with the uniform distribution: t' = (t + 1/C) / 2. */
const flatten: AddOn = {
  name: 'flatten',
  transformTarget: (t) => tf.div(tf.add(t, 1 / t.shape[1]), 2) as tf.Tensor2D,
  adjustLabeledLogits: (z) => tf.add(z, 1) as tf.Tensor2D,
};
/** Squares and renormalises the target: t' = t² / Σ t². */
const sharpen: AddOn = {
  name: 'sharpen',
  transformTarget: (t) => {
    const s = tf.square(t);
    return tf.div(s, tf.sum(s, 1, true)) as tf.Tensor2D;
  },
  adjustLabeledLogits: (z) => tf.mul(z, 2) as tf.Tensor2D,
};

function view(probs: tf.Tensor2D): UnlabeledView {
  const none = tf.zeros([1, 1]) as tf.Tensor2D;
  return { step: 0, iterations: 1, unlabeledPositions: Int32Array.of(0), probs, featuresWeak: none, featuresStrong: none, logitsStrong: none, labeled: { features: none, labels: tf.tensor1d([0], 'int32') }, model: null as never };
}

describe('composeAddOns', () => {
  it('applies add-ons in the declared order: [flatten, sharpen] is sharpen(flatten(t)), not the reverse', () => {
    // t = [0.6, 0.4]: flatten -> [0.55, 0.45]; sharpen -> [0.3025, 0.2025] / 0.505 = [0.599010, 0.400990].
    // The other order: sharpen -> [0.36, 0.16] / 0.52 = [0.692308, 0.307692]; flatten -> [0.596154, 0.403846].
    const t = tf.tensor2d([[0.6, 0.4]]);
    const v = view(t);
    const a = expectNoLeak(() => tf.tidy(() => Array.from(composeAddOns([flatten, sharpen]).transformTarget(t, v).dataSync())));
    const b = expectNoLeak(() => tf.tidy(() => Array.from(composeAddOns([sharpen, flatten]).transformTarget(t, v).dataSync())));
    expect(a[0]).toBeCloseTo(0.59901, 5);
    expect(a[1]).toBeCloseTo(0.40099, 5);
    expect(b[0]).toBeCloseTo(0.596154, 5);
    expect(b[1]).toBeCloseTo(0.403846, 5);
    // Logit points chain in the same order: (z + 1) · 2 versus z · 2 + 1.
    const z = tf.tensor2d([[1, 3]]);
    expect(Array.from(composeAddOns([flatten, sharpen]).adjustLabeledLogits(z, { step: 0, iterations: 1 }).dataSync())).toEqual([4, 8]);
    expect(Array.from(composeAddOns([sharpen, flatten]).adjustLabeledLogits(z, { step: 0, iterations: 1 }).dataSync())).toEqual([3, 7]);
    tf.dispose([t, z, v.featuresWeak]);
  });

  it('keeps each add-on\'s state under its own name and refuses clashing loss-term or source names', () => {
    const a: AddOn = { name: 'a', state: () => ({ json: { n: 1 }, arrays: { x: Int32Array.of(1) } }), lossTerms: () => ({ lossX: tf.scalar(1) }) };
    let restored: number | undefined;
    const b: AddOn = {
      name: 'b',
      state: () => ({ json: {}, arrays: { x: Int32Array.of(2) } }),
      restore: (s) => void (restored = (s.arrays.x as Int32Array)[0]),
      lossTerms: () => ({ lossX: tf.scalar(2) }),
    };
    const chain = composeAddOns([a, b]);
    const saved = chain.state();
    expect(Object.keys(saved.arrays)).toEqual(['a/x', 'b/x']);
    chain.restore(saved);
    expect(restored).toBe(2);
    tf.tidy(() => {
      expect(() => chain.lossTerms(view(tf.zeros([1, 2]) as tf.Tensor2D))).toThrow(/b adds loss term 'lossX', which is already taken/);
    });
    expect(() => composeAddOns([a, a])).toThrow(/appears twice/);
  });
});

describe('exclusive extension points', () => {
  const claim = (name: string) =>
    defineAddOn({
      name,
      kind: 'add-on',
      summary: 'adjusts labeled logits',
      paper: '-',
      code: '-',
      defaultBase: 'fixmatch',
      claims: ['labeled-logits'],
      sections: [],
      create: () => ({ name }),
    });

  it('two add-ons claiming one exclusive point are refused at config time, naming both', () => {
    const registry = new MethodRegistry([fixmatchMethod, claim('left'), claim('right')]);
    expect(() => registry.assertComposable({ algorithm: 'fixmatch', with: ['left'] })).not.toThrow();
    expect(() => registry.assertComposable({ algorithm: 'fixmatch', with: ['left', 'right'] })).toThrow(/left and right both adjust the labeled-logits/);
    expect(() => registry.assertComposable({ algorithm: 'fixmatch', with: ['left'] }, [{ owner: '--labeled-loss balanced', point: 'labeled-logits' }])).toThrow(
      /--labeled-loss balanced and left both adjust/,
    );
  });

  it('a method may not redeclare another method\'s option key with a different spec', () => {
    const clash = defineAddOn({
      name: 'clash',
      kind: 'add-on',
      summary: '-',
      paper: '-',
      code: '-',
      defaultBase: 'fixmatch',
      sections: [{ threshold: option(z.number(), 0.5, 'another threshold') }],
      create: () => ({ name: 'clash' }),
    });
    expect(() => new MethodRegistry([fixmatchMethod, clash])).toThrow(/option 'threshold' of 'clash' is already declared by 'fixmatch'/);
  });
});

describe('per-sample points: thresholds, weights, prior estimates', () => {
  it('thresholds fall back to the learner\'s τ, weights multiply across add-ons, estimates are keyed by add-on', () => {
    const tau: AddOn = { name: 'tau', thresholds: (t) => tf.fill([t.shape[0]], 0.5) as tf.Tensor1D, priorEstimate: () => [0.25, 0.75] };
    const half: AddOn = { name: 'half', unlabeledWeights: (t) => tf.fill([t.shape[0]], 0.5) as tf.Tensor1D };
    const third: AddOn = { name: 'third', unlabeledWeights: (t) => tf.fill([t.shape[0]], 1 / 3) as tf.Tensor1D, priorEstimate: () => null };
    const t = tf.tensor2d([[0.6, 0.4], [0.9, 0.1]]);
    const v = view(t);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      expect(composeAddOns([half]).thresholds(t, v, 0.95)).toBe(0.95);
      expect(Array.from((composeAddOns([tau]).thresholds(t, v, 0.95) as tf.Tensor1D).dataSync())).toEqual([0.5, 0.5]);
      expect(composeAddOns([tau]).unlabeledWeights(t, v)).toBeNull();
      // 0.5 · 1/3 = 0.166667 per sample.
      const w = composeAddOns([half, third]).unlabeledWeights(t, v)!;
      expect(Array.from(w.dataSync()).map((x) => Number(x.toFixed(6)))).toEqual([0.166667, 0.166667]);
      expect(composeAddOns([half]).labeledWeights(tf.tensor1d([0], 'int32'), { step: 0, iterations: 1 })).toBeNull();
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(composeAddOns([tau, half, third]).priorEstimates()).toEqual({ tau: [0.25, 0.75] });
    tf.dispose([t, v.featuresWeak, v.labeled.labels]);
  });

  it('the masked unlabeled loss takes per-sample thresholds and weights', () => {
    // target rows [0.9, 0.1] and [0.6, 0.4], logits z = [[2, 0], [0, 0]]:
    // CE_0 = log(1 + e^-2) = 0.126928, CE_1 = log 2 = 0.693147.
    // τ = [0.95, 0.5] -> mask [0, 1]; weights [1, 0.5] -> L_u = 0.5 · 0.693147 / 2 = 0.173287.
    tf.tidy(() => {
      const target = tf.tensor2d([[0.9, 0.1], [0.6, 0.4]]);
      const z = tf.tensor2d([[2, 0], [0, 0]]);
      const { mask, lossU } = maskedPseudoLabelLoss(z, target, tf.tensor1d([0.95, 0.5]), tf.tensor1d([1, 0.5]));
      expect(Array.from(mask.dataSync())).toEqual([0, 1]);
      expect(lossU.dataSync()[0]).toBeCloseTo(0.173287, 5);
      // Scalar τ = 0.5, no weights: (0.126928 + 0.693147) / 2 = 0.410038.
      expect(maskedPseudoLabelLoss(z, target, 0.5).lossU.dataSync()[0]).toBeCloseTo(0.410038, 5);
    });
  });
});

describe('what a learner offers its add-ons', () => {
  const needy = defineAddOn({
    name: 'needy',
    kind: 'add-on',
    summary: '-',
    paper: '-',
    code: '-',
    defaultBase: 'fixmatch',
    requires: ['confidence-threshold'],
    sections: [],
    create: () => ({ name: 'needy' }),
  });
  const plain = defineLearner({ name: 'plain', kind: 'base', summary: '-', paper: '-', code: '-', sections: [], create: () => ({}) as never });

  it('an add-on is refused on a learner without the capability it needs, naming why and where it works', () => {
    const registry = new MethodRegistry([fixmatchMethod, plain, needy]);
    expect(() => registry.assertComposable({ algorithm: 'fixmatch', with: ['needy'] })).not.toThrow();
    expect(() => registry.assertComposable({ algorithm: 'plain', with: ['needy'] })).toThrow(
      /needy cannot be added to plain: needy needs a learner that masks its pseudo-labels by a confidence threshold/,
    );
    try {
      registry.assertComposable({ algorithm: 'plain', with: ['needy'] });
    } catch (err) {
      expect((err as UserError).fix).toMatch(/Use needy with fixmatch/);
    }
  });

  it('auxiliary heads of the learner and its add-ons are merged; two reported heads are refused', () => {
    const head = (name: string, reported: boolean) =>
      defineAddOn({
        name,
        kind: 'add-on',
        summary: '-',
        paper: '-',
        code: '-',
        defaultBase: 'fixmatch',
        sections: [],
        model: () => ({ auxHeads: [{ name, outputs: 3 }], ...(reported ? { reportedHead: name } : {}) }),
        create: () => ({ name }),
      });
    const registry = new MethodRegistry([fixmatchMethod, head('aux-a', true), head('aux-b', false), head('aux-c', true)]);
    const values = { threshold: 0.95, lambdaU: 1 };
    expect(registry.modelNeeds({ algorithm: 'fixmatch', with: ['aux-a', 'aux-b'], ...values } as never)).toEqual({
      auxHeads: [{ name: 'aux-a', outputs: 3 }, { name: 'aux-b', outputs: 3 }],
      reportedHead: 'aux-a',
    });
    expect(() => registry.modelNeeds({ algorithm: 'fixmatch', with: ['aux-a', 'aux-c'], ...values } as never)).toThrow(/aux-a and aux-c each report their own head/);
  });
});
