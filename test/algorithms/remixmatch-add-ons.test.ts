/** The add-on rules specific to ReMixMatch: SAW's class weights inside mixed soft targets, CReST+ through ReMixMatch's own alignment. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useCpuBackend, expectNoLeak } from '../helpers/tf-cpu.js';
import { expectUserError } from '../helpers/user-error.js';
import { composeAddOns, createCrest, createSaw, registry, type UnlabeledView } from '../../src/algorithms/index.js';
import { classWeightedSoftCrossEntropy } from '../../src/ops/cross-entropy.js';
import { generationRampupWeight } from '../../src/algorithms/unlabeled-rampup.js';
import { resolveRunConfig, type RunConfig } from '../../src/config/run-config.js';

beforeAll(useCpuBackend);

const round = (xs: ArrayLike<number>, digits = 6): number[] => Array.from(xs, (x) => Number(x.toFixed(digits)));

function config(algorithm: string, withAddOns: string[], values: Record<string, unknown> = {}): RunConfig {
  return resolveRunConfig({ algorithm, with: withAddOns }, [{ source: 'test', values: { net: 'cnn-small', iterations: 10, gammaL: 4, gammaU: 4, ...values } }]);
}

describe('class-weighted soft cross-entropy (SAW_SSL train_remix_cifar10.py SemiLoss)', () => {
  it('−Σ_c w_c·t_c·log p_c per row, with the gradient softmax·Σ w·t − w ⊙ t', () => {
    expectNoLeak(() =>
      tf.tidy(() => {
        // z = [0, ln 3]: p = [0.25, 0.75]; t = [0.5, 0.5], w = [2, 1]:
        // −(2·0.5·ln 0.25 + 1·0.5·ln 0.75) = 1.386294 + 0.143841 = 1.530135.
        const z = tf.tensor2d([[0, Math.log(3)]]);
        const t = tf.tensor2d([[0.5, 0.5]]);
        const w = tf.tensor1d([2, 1]);
        expect(round(classWeightedSoftCrossEntropy(z, t, w).dataSync())).toEqual([1.530135]);
        // Null weights: the plain soft CE, −(0.5·ln 0.25 + 0.5·ln 0.75) = 0.836988.
        expect(round(classWeightedSoftCrossEntropy(z, t, null).dataSync())).toEqual([0.836988]);
        // Σ w·t = 1.5: [0.25, 0.75]·1.5 − [1, 0.5] = [−0.625, 0.625].
        const grad = tf.grad((x: tf.Tensor) => tf.sum(classWeightedSoftCrossEntropy(x as tf.Tensor2D, t, w)))(z);
        expect(round(grad.dataSync())).toEqual([-0.625, 0.625]);
      }),
    );
  });
});

describe('SAW on ReMixMatch', () => {
  it('gives class weights; the chain turns them into per-sample weights for learners that weight samples', () => {
    const saw = createSaw({ sawBeta: 0.5, sawUpdateEvery: 2 }, { numClasses: 3, labeledClassCounts: [4, 2, 1], numUnlabeled: 4 });
    const chain = composeAddOns([saw]);
    expect(chain.weightsSamples).toBe(false);
    expectNoLeak(() =>
      tf.tidy(() => {
        // smoothedClassWeights([4, 2, 1], 0.5) = [0.727273, 0.909091, 1.363636] (test/algorithms/saw.test.ts).
        expect(round(chain.labeledClassWeights({ step: 0, iterations: 10 })!.dataSync())).toEqual([0.727273, 0.909091, 1.363636]);
        expect(round(chain.labeledWeights(tf.tensor1d([2, 0], 'int32'), { step: 0, iterations: 10 })!.dataSync())).toEqual([1.363636, 0.727273]);
        // Before its first update w^u = 1 for every class.
        expect(Array.from(chain.unlabeledClassWeights({} as UnlabeledView)!.dataSync())).toEqual([1, 1, 1]);
      }),
    );
  });

  it('composes with ReMixMatch and FixMatch; refused on MixMatch, whose L2 consistency has no per-class weighting in the papers', () => {
    expect(() => config('remixmatch', ['saw'])).not.toThrow();
    expect(() => config('fixmatch', ['saw'])).not.toThrow();
    expectUserError(() => config('mixmatch', ['saw']), /saw cannot be added to mixmatch: saw needs a learner that weights its labeled and unlabeled losses per class.*Use saw with .*remixmatch/);
  });
});

describe('CReST+ on ReMixMatch', () => {
  const none = (): tf.Tensor2D => tf.zeros([1, 1]) as tf.Tensor2D;
  const view = (alignedByLearner: boolean): UnlabeledView =>
    ({ step: 0, iterations: 10, unlabeledPositions: Int32Array.of(0), probs: none(), featuresWeak: none(), featuresStrong: none(), logitsStrong: none(), alignedByLearner }) as UnlabeledView;

  it('hands its progressive temperature to the learner and does not align a target the learner aligned', () => {
    const crest = createCrest({ crestGenerations: 3, crestAlpha: 3, crestAlign: 'progressive', crestTMin: 0.5 }, { numClasses: 2, labeledClassCounts: [8, 2], iterations: 9 });
    const chain = composeAddOns([crest]);
    expect([chain.aligns, chain.alignmentTemperature()]).toEqual([true, 1]);
    tf.tidy(() => {
      const target = tf.tensor2d([[0.5, 0.5]]);
      // Taken over by the learner: the very tensor comes back, and the alignment window stays empty.
      expect(chain.transformTarget(target, view(true))).toBe(target);
      expect(crest.state!().arrays.alignPushed).toEqual(Int32Array.of(0));
      // Not taken over (FixMatch): aligned to π = [0.8, 0.2], p̄ = [0.5, 0.5] → [0.8, 0.2] (up to ε = 1e-6).
      expect(round(chain.transformTarget(target, view(false)).dataSync(), 5)).toEqual([0.8, 0.2]);
    });
    const off = createCrest({ crestGenerations: 3, crestAlpha: 3, crestAlign: 'off', crestTMin: 0.5 }, { numClasses: 2, labeledClassCounts: [8, 2], iterations: 9 });
    expect(composeAddOns([off]).aligns).toBe(false);
    expect(composeAddOns([off]).alignmentTemperature()).toBeNull();
    // Constant alignment: the learner aligns once at its own temperature (rm_crest.py: da_t = None).
    const constant = composeAddOns([createCrest({ crestGenerations: 3, crestAlpha: 3, crestAlign: 'constant', crestTMin: 0.5 }, { numClasses: 2, labeledClassCounts: [8, 2], iterations: 9 })]);
    expect([constant.aligns, constant.alignmentTemperature()]).toEqual([true, null]);
  });

  it('the ramp-up restarts at each generation (rm_crest.py cons_rampup_func)', () => {
    const opts = { unlabeledRampup: 0.5, unlabeledRampupShape: 'linear' } as const;
    // Whole run of 100, no generations: 30 / 50.
    expect(generationRampupWeight(30, 100, null, opts)).toBeCloseTo(0.6, 12);
    // Generation [50, 100): (60 − 50) / (0.5 · 50) = 0.4.
    expect(generationRampupWeight(60, 100, { start: 50, end: 100 }, opts)).toBeCloseTo(0.4, 12);
  });

  it('is refused where ReMixMatch does not align (CReST+ aligns through it), naming both fixes', () => {
    expect(() => config('remixmatch', ['crest'])).not.toThrow();
    expectUserError(() => config('remixmatch', ['crest'], { gammaU: 1 }), /--crest-align: is progressive, and on remixmatch CReST\+ aligns through ReMixMatch's distribution alignment.*γ_l 4 ≠ γ_u 1.*--remixmatch-dist-align on.*--crest-align off/);
    expect(() => config('remixmatch', ['crest'], { gammaU: 1, remixmatchDistAlign: 'on' })).not.toThrow();
    expect(() => config('remixmatch', ['crest'], { gammaU: 1, crestAlign: 'off' })).not.toThrow();
    expect(registry.names()).toContain('crest');
  });
});

describe('refusals on ReMixMatch', () => {
  it('name the papers\' base learners, and suggest only learners the add-on can join (not those that own the points it claims)', () => {
    // DebiasPL claims the unlabeled and strong logits; ACR, CPE and CCL own the unlabeled logits themselves.
    expectUserError(() => config('remixmatch', ['debiaspl']), /debiaspl cannot be added to remixmatch: .*\(DebiasPL is built on FixMatch: .*\)\. Use debiaspl with fixmatch, pseudo-label, flexmatch\.$/);
    // ACR, CCL and CPE report a head of their own, as ABC does: a run reports one.
    expectUserError(() => config('mean-teacher', ['abc']), /Use abc with fixmatch, flexmatch, remixmatch, simpro\.$/);
    expectUserError(() => config('remixmatch', ['adsh']), /adsh cannot be added to remixmatch: .*Adsh only supports FixMatch as the base algorithm.*\. Use adsh with fixmatch, pseudo-label, acr, simpro, cpe, ccl\.$/);
  });
});
