import { describe, expect, it } from 'vitest';
import { frequencyRanks, shiftedTestSet, targetCounts, TARGET_DISTRIBUTIONS } from '../../src/eval/shifted-targets.js';
import { adjustedPredictions, assertAdjustOnce, postHocShift } from '../../src/eval/post-hoc.js';
import { registry } from '../../src/algorithms/index.js';
import { resolveRunConfig } from '../../src/config/run-config.js';

describe('shifted target distributions (LADE)', () => {
  it('11 distributions, forward-50 to backward-50', () => {
    expect(TARGET_DISTRIBUTIONS).toHaveLength(11);
    expect(TARGET_DISTRIBUTIONS[0]).toBe('forward-50');
    expect(TARGET_DISTRIBUTIONS[5]).toBe('uniform');
    expect(TARGET_DISTRIBUTIONS[10]).toBe('backward-50');
  });

  it('ranks classes by training count, not by index', () => {
    expect(frequencyRanks([10, 100, 1])).toEqual([1, 0, 2]);
    expect(frequencyRanks([5, 5, 9])).toEqual([1, 2, 0]);
  });

  it('n_r = floor(n_max · ρ^(−r/(C−1))), backward reverses the rank', () => {
    // 3 classes, head = class 1, tail = class 2; n_max = 100, ρ = 50: 100, floor(100/√50) = 14, 2.
    expect(targetCounts('forward-50', [10, 100, 1], 100)).toEqual([14, 100, 2]);
    expect(targetCounts('backward-50', [10, 100, 1], 100)).toEqual([14, 2, 100]);
    expect(targetCounts('uniform', [10, 100, 1], 100)).toEqual([100, 100, 100]);
    expect(targetCounts('forward-2', [4, 2, 1], 10)).toEqual([10, 7, 5]);
  });

  it('keeps the first n_c test images of each class and gives p_t', () => {
    const labels = Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]); // 4 per class
    const set = shiftedTestSet('forward-2', labels, [4, 2, 1]);
    expect(set.counts).toEqual([4, 2, 2]); // floor(4·2^-0.5) = 2, floor(4/2) = 2
    expect(Array.from(set.indices)).toEqual([0, 3, 6, 9, 1, 4, 2, 5]);
    expect(set.prior).toEqual([0.5, 0.25, 0.25]);
    expect(() => shiftedTestSet('uniform', labels, [4, 2, 1], 5)).toThrow(/class 0 has 4 test images, the distribution needs 5/);
  });
});

describe('inference-time adjustment', () => {
  const counts = [90, 10]; // π = 0.9, 0.1
  it('post-hoc LA subtracts τ·log π: a tail logit slightly below the head wins', () => {
    const logits = Float32Array.from([1.0, 0.0]); // z_head − z_tail = 1 < log 9 = 2.197
    expect(Array.from(adjustedPredictions(logits, 2, postHocShift('none', counts)))).toEqual([0]);
    expect(Array.from(adjustedPredictions(logits, 2, postHocShift('la', counts)))).toEqual([1]);
    // τ = 0.4: shift 0.4·2.197 = 0.879 < 1: the head stays.
    expect(Array.from(adjustedPredictions(logits, 2, postHocShift('la', counts, { tau: 0.4 })))).toEqual([0]);
    const s = postHocShift('la', counts);
    expect(s[0]).toBeCloseTo(-Math.log(0.9), 12);
    expect(s[1]).toBeCloseTo(-Math.log(0.1), 12);
  });

  it('PC Softmax: z − log π + log p_t; LADE prior injection: z + log p_t', () => {
    const pt = [0.2, 0.8];
    const pc = postHocShift('pc-softmax', counts, { targetPrior: pt });
    expect(pc[0]).toBeCloseTo(Math.log(0.2) - Math.log(0.9), 12);
    expect(pc[1]).toBeCloseTo(Math.log(0.8) - Math.log(0.1), 12);
    const lade = postHocShift('lade-prior', counts, { targetPrior: pt });
    expect(lade).toEqual([Math.log(0.2), Math.log(0.8)]);
    // A uniform target adds a constant: the argmax of balanced logits is unchanged.
    const uni = postHocShift('lade-prior', counts);
    expect(uni[0]).toBe(uni[1]);
  });

  it('adjusts logits once: post-hoc LA or PC Softmax on a prior-adjusted loss is refused, saying why', () => {
    expect(() => assertAdjustOnce('la', 'balanced-softmax')).toThrow(/adjust the logits a second time.*balanced-softmax.*already removes the training prior/);
    expect(() => assertAdjustOnce('pc-softmax', 'lade')).toThrow(/second time/);
    expect(() => assertAdjustOnce('lade-prior', 'lade')).not.toThrow();
    expect(() => assertAdjustOnce('la', null)).not.toThrow();
  });

  it('knows which methods already removed the training prior: the owner of the labeled logits, or a balanced reported head', () => {
    const of = (algorithm: string, withAddOns: string[] = []) => registry.priorAdjustment(resolveRunConfig({ algorithm, with: withAddOns }, []));
    expect(of('fixmatch')).toBeNull();
    expect(of('fixmatch', ['daso'])).toBeNull();
    expect(of('fixmatch', ['daso', 'la'])).toBe('--with la, which adjusts the labeled logits');
    expect(of('simpro')).toBe('simpro, which adjusts the labeled logits');
    expect(of('fixmatch', ['abc'])).toBe("abc, whose reported head 'abc' is trained class-balanced");
    expect(of('acr')).toMatch(/^acr, whose reported head '.+' is trained class-balanced$/);
    expect(() => assertAdjustOnce('la', of('fixmatch', ['la']))).toThrow(/--post-hoc: la would adjust the logits a second time: the model was trained with --with la/);
  });
});
