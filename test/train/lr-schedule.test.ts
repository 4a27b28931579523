import { describe, expect, it } from 'vitest';
import { firstDecayStep, learningRateAt, type LrSchedule } from '../../src/train/lr-schedule.js';

const base: LrSchedule = { lr: 0.1, kind: 'constant', warmup: 0, milestones: [0.8, 0.9], decay: 0.01 };

describe('learningRateAt', () => {
  it('constant: DASO\'s SSL schedule', () => {
    expect([0, 100, 199].map((t) => learningRateAt(t, 200, base))).toEqual([0.1, 0.1, 0.1]);
  });

  it('step with warm-up: LDAM-DRW on 200 "epochs" (5 warm-up, ×0.01 at 160 and 180)', () => {
    const s: LrSchedule = { ...base, kind: 'step', warmup: 0.025 };
    // Warm-up lr·(t+1)/5 for t < 5.
    expect(learningRateAt(0, 200, s)).toBeCloseTo(0.02, 12);
    expect(learningRateAt(4, 200, s)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(5, 200, s)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(159, 200, s)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(160, 200, s)).toBeCloseTo(0.001, 12);
    expect(learningRateAt(179, 200, s)).toBeCloseTo(0.001, 12);
    expect(learningRateAt(180, 200, s)).toBeCloseTo(0.00001, 12);
    expect(firstDecayStep(200, s)).toBe(160);
    // DASO's supervised baselines: 6250 warm-up of 250k, ×0.01 at 200k and 225k: the same fractions.
    expect(learningRateAt(6249, 250_000, s)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(200_000, 250_000, s)).toBeCloseTo(0.001, 12);
    expect(learningRateAt(225_000, 250_000, s)).toBeCloseTo(0.00001, 12);
  });

  it('cosine from the end of the warm-up to 0', () => {
    const s: LrSchedule = { ...base, kind: 'cosine', warmup: 0.1 };
    expect(learningRateAt(9, 100, s)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(10, 100, s)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(55, 100, s)).toBeCloseTo(0.05, 12);
    expect(learningRateAt(100, 100, s)).toBeCloseTo(0, 12);
    expect(firstDecayStep(100, s)).toBeNull();
  });

  it('fixmatch-cosine: lr·cos(7πt/16T), as kekmodel/FixMatch-pytorch (ACR, SimPro, CCL, USB)', () => {
    const s: LrSchedule = { ...base, kind: 'fixmatch-cosine' };
    // t = 0: cos 0 = 1 -> 0.1; t = 50 of 100: cos(7π/32) = 0.773010 -> 0.0773010; t = 100: cos(7π/16) = 0.195090 -> 0.0195090.
    expect(learningRateAt(0, 100, s)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(50, 100, s)).toBeCloseTo(0.077301, 6);
    expect(learningRateAt(100, 100, s)).toBeCloseTo(0.019509, 6);
    expect(firstDecayStep(100, s)).toBeNull();
  });
});
