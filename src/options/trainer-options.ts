import { z } from 'zod';
import { option } from './option-spec.js';
import { SELECTION_RULES } from '../report/select-reported.js';

/** Values of `--lr-schedule`. */
export const LR_SCHEDULES = ['constant', 'step', 'cosine', 'fixmatch-cosine'] as const;

/** Values of `--progress`. */
export const PROGRESS_MODES = ['auto', 'bar', 'lines', 'none'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

/**
 * Trainer options: FixMatch/DASO's schedule (docs/methods.md §4; ytaek-oh/daso lib/config/defaults.py
 * and configs/cifar10/*.yaml): SGD lr 0.03, momentum 0.9, Nesterov, weight decay 5e-4, no LR
 * schedule, EMA 0.999, 250k iterations, eval every 500, median of the last 20 evaluations.
 */
export const trainerOptions = {
  iterations: option(z.number().int().nonnegative(), 250_000, 'training iterations (DASO: 250k; 0 only for decoupled τ-norm and NCM, which train nothing)'),
  evalEvery: option(z.number().int().positive(), 500, 'evaluate the EMA model on validation and test every K iterations (DASO: 500)'),
  labeledBatch: option(z.number().int().positive(), 64, 'labeled images per step (DASO: 64)'),
  unlabeledRatio: option(z.number().int().positive(), 2, 'unlabeled images per labeled image per step, μ (DASO CIFAR: 2)'),
  lr: option(z.number().positive(), 0.03, 'SGD learning rate (DASO: 0.03, constant)'),
  lrSchedule: option(z.enum(LR_SCHEDULES), 'constant', `learning-rate schedule: ${LR_SCHEDULES.join(' | ')} (DASO applies none; LDAM-DRW: step; FixMatch and the codebases built on it, ACR, SimPro, CCL, USB: fixmatch-cosine, lr·cos(7πt/16T))`, '<kind>'),
  lrWarmup: option(z.number().min(0).lt(1), 0, 'linear warm-up as a fraction of the iterations (LDAM-DRW: 5 of 200 epochs = 0.025)', '<fraction>'),
  lrMilestones: option(
    z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((x) => Number(x.trim())) : v), z.array(z.number().gt(0).lt(1))),
    [0.8, 0.9],
    'step schedule: fractions of the run where the rate decays, comma-separated (LDAM-DRW: 160 and 180 of 200 epochs)',
    '<f,f>',
  ),
  lrDecay: option(z.number().gt(0).lte(1), 0.01, 'step schedule: factor at each milestone (LDAM-DRW: 0.01)'),
  momentum: option(z.number().min(0).lt(1), 0.9, 'SGD momentum'),
  nesterov: option(z.boolean(), true, 'Nesterov momentum (--no-nesterov turns it off)'),
  weightDecay: option(z.number().min(0), 5e-4, 'L2 weight decay on all parameters (PyTorch SGD form)'),
  emaDecay: option(z.number().min(0).lt(1), 0.999, 'EMA decay cap; decay at step t is min(1 − 1/(t+1), cap)'),
  selection: option(
    z.enum(SELECTION_RULES),
    'median-last-20',
    `how the reported test number is picked, never best-on-test: ${SELECTION_RULES.join(' | ')}`,
    '<rule>',
  ),
  checkpointEvery: option(z.number().int().positive(), 500, 'write a checkpoint every K iterations (and at the end)'),
  plWindow: option(z.number().int().positive(), 500, 'pseudo-label quality window in steps (DASO DistributionLogger: 500)'),
  progress: option(z.enum(PROGRESS_MODES), 'auto', `progress display: ${PROGRESS_MODES.join(' | ')} (auto: a bar on a TTY, plain lines otherwise)`, '<mode>'),
} as const;
