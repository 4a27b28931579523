import { z } from 'zod';
import { option, type SectionValues } from '../options/option-spec.js';

/**
 * The ramp-up of the unlabeled-loss weight shared by PseudoLabel and MeanTeacher
 * (ytaek-oh/daso lib/algorithm/base_ssl_algorithm.py `cons_rampup_func`; docs/methods.md §4b).
 * One section object, so both learners read the same keys, defaults and help.
 */
export const unlabeledRampupOptions = {
  unlabeledRampup: option(
    z.number().min(0).max(1),
    0.4,
    'fraction of the run over which the unlabeled-loss weight ramps from 0 to its value; 0 = none (DASO CONS_RAMPUP_ITERS_RATIO: 0.4)',
    '<fraction>',
  ),
  unlabeledRampupShape: option(
    z.enum(['linear', 'exp']),
    'linear',
    'ramp-up shape: linear t/R, or exp(−5(1 − t/R)²) (DASO configs/*/pseudolabel.yaml, meanteacher.yaml: linear; defaults.py: exp)',
    '<linear|exp>',
  ),
} as const;

/** The ramp-up values a learner reads (the section above). */
export type UnlabeledRampupOptions = Readonly<SectionValues<typeof unlabeledRampupOptions>>;

/**
 * The ramp-up coefficient at 0-based step t of a run of T steps, with R = fraction·T:
 * linear min(t/R, 1); exp exp(−5·(1 − min(t/R, 1))²) (Laine & Aila's sigmoid-shaped ramp).
 * DASO's code divides by R without a guard; R = 0 here means no ramp-up (coefficient 1).
 * So the first step (t = 0) has coefficient 0 under the linear ramp, as in the official code.
 */
export function unlabeledRampupWeight(step: number, iterations: number, opts: UnlabeledRampupOptions): number {
  const length = iterations * opts.unlabeledRampup;
  if (length <= 0) return 1;
  const progress = Math.min(step / length, 1);
  return opts.unlabeledRampupShape === 'linear' ? progress : Math.exp(-5 * (1 - progress) ** 2);
}

/**
 * The ramp-up weight at `step`, restarted at each generation of a generational run (CReST): DASO's
 * rm_crest.py `cons_rampup_func` ramps over the generation's steps from its start, as each
 * generation of google-research/crest is a fresh training run.
 */
export function generationRampupWeight(step: number, iterations: number, generation: { readonly start: number; readonly end: number } | null, opts: UnlabeledRampupOptions): number {
  return generation ? unlabeledRampupWeight(step - generation.start, generation.end - generation.start, opts) : unlabeledRampupWeight(step, iterations, opts);
}
