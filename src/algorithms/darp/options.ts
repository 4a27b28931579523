import { z } from 'zod';
import { option, type SectionValues } from '../../options/option-spec.js';

/**
 * DARP options (docs/methods.md §9; ytaek-oh/daso lib/config/defaults.py `ALGORITHM.DARP`,
 * bbuing9/DARP arguments.py and run.sh). This file is the only home of their defaults.
 */
export const darpOptions = {
  darpWarmup: option(
    z.number().min(0).lt(1),
    0.4,
    'fraction of the run before refinement starts (DASO WARMUP_RATIO 0.4; DARP run.sh: --warm 200 of 500 epochs)',
    '<fraction>',
  ),
  darpEvery: option(z.number().int().positive(), 10, 'steps between two refinements; in between the last refined labels are used (DARP --num_iter / DASO PER_ITERS: 10)'),
  darpAlpha: option(z.number().positive(), 2, 'α: class k keeps only samples among its top ⌊α·target_k⌋ predictions before solving (DARP --alpha: 2)'),
  darpIterations: option(z.number().int().positive(), 10, 'outer iterations T of the solver (DARP --iter_T / DASO NUM_DARP_ITERS: 10)'),
  darpTarget: option(
    z.enum(['auto', 'labeled', 'estimate']),
    'auto',
    'target distribution of the unlabeled set: labeled = the labeled class shape (DARP without --est); estimate = confusion-matrix estimate on the validation split; auto = labeled when γ_l = γ_u, else estimate (DASO get_target_dist)',
    '<auto|labeled|estimate>',
  ),
  darpEstimates: option(z.number().int().positive(), 5, 'estimates taken over the second half of the warm-up; the accepted ones are averaged (the official code averages its accepted per-epoch estimates)'),
  darpConditionLimit: option(z.number().gt(1), 100, 'an estimate is accepted when no entry is negative and the confusion matrix\'s condition number is below this (DARP --th_cond / DASO THRESH_COND: 100)'),
} as const;

export type DarpOptions = Readonly<Omit<SectionValues<typeof darpOptions>, 'darpTarget'>> & {
  /** Resolved: never 'auto' once a run starts. */
  readonly darpTarget: 'labeled' | 'estimate';
};

/** DASO's rule (`get_target_dist`): the labeled shape when labeled and unlabeled share their imbalance, an estimate otherwise. */
export function resolveDarpTarget(value: 'auto' | 'labeled' | 'estimate', gammaL: number, gammaU: number): 'labeled' | 'estimate' {
  if (value !== 'auto') return value;
  return gammaL === gammaU ? 'labeled' : 'estimate';
}

/** The completed-step count after which refinement may start: ⌊T·warmup⌋ (DASO `int(max_iters · warmup_ratio)`). */
export function darpWarmupSteps(iterations: number, warmup: number): number {
  return Math.floor(iterations * warmup);
}

/**
 * The steps after which an estimate is taken: `count` points evenly over the second half of the
 * warm-up W, the last at W (the official estimates come from a separate supervised run; ours from
 * this run's EMA model just before refinement needs them). Duplicates and step 0 are dropped.
 */
export function darpEstimateSteps(warmupSteps: number, count: number): number[] {
  const out = new Set<number>();
  for (let j = 0; j < count; j++) out.add(warmupSteps - Math.round(((count - 1 - j) * warmupSteps) / (2 * count)));
  return [...out].filter((s) => s > 0).sort((a, b) => a - b);
}
