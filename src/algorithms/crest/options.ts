import { z } from 'zod';
import { option, type SectionValues } from '../../options/option-spec.js';

/**
 * CReST / CReST+ options (docs/methods.md §10; ytaek-oh/daso lib/config/defaults.py
 * `ALGORITHM.CREST` and configs/cifar10/fixmatch_crest.yaml; google-research/crest
 * train_and_eval_loop.py). This file is the only home of their defaults.
 */
export const crestOptions = {
  crestGenerations: option(
    z.number().int().positive(),
    5,
    'generations the run is cut into; each re-initialises the model and retrains on the labeled set plus the previous generation\'s pseudo-labeled picks (DASO: 250k / GEN_PERIOD_STEPS 50k = 5)',
  ),
  crestAlpha: option(z.number().positive(), 3, 'α of the inclusion rate (n_{C−1−r}/n_0)^(1/α) of the class of rank r (CReST alpha / DASO CREST.ALPHA: 3)'),
  crestAlign: option(
    z.enum(['progressive', 'constant', 'off']),
    'progressive',
    'distribution alignment of the pseudo-labels to the labeled distribution: progressive = CReST+ (temperature 1 → --crest-t-min over the generations), constant = temperature 1, off = plain CReST',
    '<progressive|constant|off>',
  ),
  crestTMin: option(z.number().positive().max(1), 0.5, 'temperature of the aligned target in the last generation (DASO CREST.TMIN / CReST dalign_t: 0.5)'),
} as const;

export type CrestOptions = Readonly<SectionValues<typeof crestOptions>>;

/** Batches the alignment's running mean of predictions covers (ytaek-oh/daso lib/models/dist_align.py `Queue(max_size=128)`). */
export const ALIGN_WINDOW = 128;

/**
 * The steps (completed-step counts) at which generations end and the next starts: ⌊g·T/G⌋ for
 * g = 1..G−1 (DASO requires T to be a multiple of G, where these are g·T/G exactly).
 */
export function generationBoundaries(iterations: number, generations: number): number[] {
  const out: number[] = [];
  for (let g = 1; g < generations; g++) out.push(Math.floor((g * iterations) / generations));
  return out;
}

/**
 * CReST+'s alignment temperature in generation g (0-based) of G: 1 − f + f·t_min with
 * f = g/(G − 1) (DASO `gradual_temp`; google-research/crest `adaptive`); 1 when G = 1, where the
 * official formula divides by zero.
 */
export function progressiveTemperature(generation: number, generations: number, tMin: number): number {
  const f = generations > 1 ? generation / (generations - 1) : 0;
  return 1 - f + f * tMin;
}
