/**
 * The labeled-loss slot as a run binds it: DRW's switch at the first LR decay, seesaw's running
 * counts as checkpointed state, equalization's per-step draws, and the config rules that come
 * with the slot (LDAM's cosine head, DRW's loss and schedule, --loss as --labeled-loss).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { labeledLossEntry, losses, lossHelpers, DRW_BETA } from '../../src/losses/index.js';
import { resolveRunConfig } from '../../src/config/run-config.js';
import { bindLabeledLoss } from '../../src/run/build-algorithm.js';
import { useCpuBackend } from '../helpers/tf-cpu.js';
import { expectUserError } from '../helpers/user-error.js';

beforeAll(useCpuBackend);

const counts = [50, 10, 2];
const z = [
  [2, 0.5, -1],
  [0.1, 1.2, 0.3],
  [-0.5, 0.2, 0.9],
  [1, 1, 1],
];
const y = [0, 1, 2, 2];
const value = (f: (z: tf.Tensor2D, y: tf.Tensor1D) => tf.Scalar): number => tf.tidy(() => f(tf.tensor2d(z), tf.tensor1d(y, 'int32')).dataSync()[0]);

describe('labeled-loss slot', () => {
  it('DRW: plain CE before the first LR decay, class-balanced weighted CE (Σw denominator) from it on', () => {
    const config = resolveRunConfig('supervised', [{ source: 'test', values: { drw: true, lrSchedule: 'step', lrMilestones: [0.5, 0.75], iterations: 100 } }]);
    const slot = bindLabeledLoss(config, counts);
    const ce = value((a, b) => losses.crossEntropy(a, b));
    const w = lossHelpers.effectiveNumberWeights(counts, DRW_BETA);
    const weighted = value((a, b) => lossHelpers.weightedMean(tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(b, 3), a, undefined, 0, tf.Reduction.NONE)) as tf.Tensor1D, b, w));
    expect(value((a, b) => slot.loss(a, b, 49))).toBeCloseTo(ce, 6);
    expect(value((a, b) => slot.loss(a, b, 50))).toBeCloseTo(weighted, 6);
    expect(weighted).not.toBeCloseTo(ce, 3);
  });

  it('LDAM-DRW re-weights LDAM at the switch', () => {
    const config = resolveRunConfig('supervised', [{ source: 'test', values: { labeledLoss: 'ldam', drw: true, lrSchedule: 'step', iterations: 10 } }]);
    expect(config.head).toBe('cosine');
    const slot = bindLabeledLoss(config, counts);
    const w = lossHelpers.effectiveNumberWeights(counts, DRW_BETA);
    expect(value((a, b) => slot.loss(a, b, 0))).toBeCloseTo(value((a, b) => losses.ldam(a, b, counts)), 6);
    expect(value((a, b) => slot.loss(a, b, 8))).toBeCloseTo(value((a, b) => losses.ldam(a, b, counts, { weights: w })), 6);
  });

  it('seesaw counts each step once, and its running counts survive a checkpoint', () => {
    const config = resolveRunConfig('supervised', [{ source: 'test', values: { labeledLoss: 'seesaw' } }]);
    const slot = bindLabeledLoss(config, counts);
    value((a, b) => slot.loss(a, b, 0));
    value((a, b) => slot.loss(a, b, 0)); // a second call in the same step must not count again
    value((a, b) => slot.loss(a, b, 1));
    expect(Array.from(slot.state().runningCounts)).toEqual([2, 2, 4]);
    const expected = value((a, b) => losses.seesaw(a, b, lossHelpers.updateSeesawCounts([2, 2, 4], y)));
    const restored = bindLabeledLoss(config, counts);
    restored.restore(slot.state());
    expect(value((a, b) => restored.loss(a, b, 2))).toBeCloseTo(expected, 6);
    expect(() => bindLabeledLoss(config, counts).restore({})).toThrow(/no running counts/);
  });

  it('equalization draws per step: the same step gives the same loss, resume included', () => {
    const config = resolveRunConfig('supervised', [{ source: 'test', values: { labeledLoss: 'equalization' } }]);
    // λ = 0.005 on counts [1000, 100, 2] makes class 2 (2/1102) rare: its negative terms drop at random.
    const rare = [1000, 100, 2];
    const lossAt = (step: number): number => value((a, b) => bindLabeledLoss(config, rare).loss(a, b, step));
    expect(lossAt(3)).toBe(lossAt(3));
    const perStep = [0, 1, 2, 3, 4, 5, 6, 7].map(lossAt);
    expect(new Set(perStep).size).toBeGreaterThan(1);
    // Every draw lies between "nothing dropped" (CE) and "every rare negative dropped".
    const ce = value((a, b) => losses.crossEntropy(a, b));
    for (const l of perStep) expect(l).toBeLessThanOrEqual(ce + 1e-6);
  });

  it('the class-balanced sigmoid losses ask for a final bias of −log(C − 1)', () => {
    expect(labeledLossEntry('cb-focal').biasInit?.(10)).toBeCloseTo(-Math.log(9), 12);
    expect(labeledLossEntry('cb-sigmoid').biasInit?.(10)).toBeCloseTo(-Math.log(9), 12);
    expect(labeledLossEntry('ce').biasInit).toBeUndefined();
  });
});

describe('slot rules at config time', () => {
  it('LDAM refuses a head other than cosine; --head auto is linear for the others', () => {
    expectUserError(() => resolveRunConfig('supervised', [{ source: 'test', values: { labeledLoss: 'ldam', head: 'linear' } }]), /--head.*ldam needs the cosine head/);
    expect(resolveRunConfig('supervised', []).head).toBe('linear');
  });

  it('DRW refuses a loss it does not re-weight and a schedule without a decay', () => {
    expectUserError(() => resolveRunConfig('supervised', [{ source: 'test', values: { labeledLoss: 'focal', drw: true, lrSchedule: 'step' } }]), /--drw.*re-weights ce or ldam, not --loss focal/);
    expectUserError(() => resolveRunConfig('supervised', [{ source: 'test', values: { drw: true, lrSchedule: 'cosine' } }]), /--drw.*first LR decay.*--lr-schedule cosine/);
  });

  it('Remix refuses a loss other than CE', () => {
    expectUserError(() => resolveRunConfig('supervised', [{ source: 'test', values: { remix: true, labeledLoss: 'focal' } }]), /--remix.*cross-entropy.*--loss focal/);
  });
});
