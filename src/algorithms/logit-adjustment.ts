import { z } from 'zod';
import { option, type SectionValues } from '../options/option-spec.js';
import { addLogPrior } from '../losses/logit-adjusted.js';
import type { AddOn } from './add-on.js';
import { defineAddOn } from './method.js';

/** Options of train-time logit adjustment (ytaek-oh/daso lib/config/defaults.py ALGORITHM.LOGIT_ADJUST). */
export const logitAdjustmentOptions = {
  laTau: option(z.number().gt(0), 1, 'τ of train-time logit adjustment: the labeled logits get + τ·log π_l (DASO LOGIT_ADJUST.TAU: 1)'),
} as const;

export type LogitAdjustmentOptions = Readonly<SectionValues<typeof logitAdjustmentOptions>>;

/**
 * Train-time logit adjustment as DASO composes it (Menon et al., ICLR 2021; ytaek-oh/daso
 * lib/models/daso_model.py `with_la`): the labeled logits get + τ·log π_l, π_l the labeled class
 * distribution, before the labeled loss; the weak logits the pseudo-labels come from, and the
 * logits evaluated, stay raw. With the slot at ce this is the logit-adjusted loss on the labeled
 * batch; it owns the labeled logits, so a slot loss that also adjusts them is refused.
 *
 * @param labeledClassCounts n_c of the labeled split [C], all > 0.
 */
export function createLogitAdjustment(opts: LogitAdjustmentOptions, labeledClassCounts: readonly number[]): AddOn {
  return {
    name: 'la',
    adjustLabeledLogits: (logits) => addLogPrior(logits, labeledClassCounts, opts.laTau),
  };
}

/** The registry entry: `ssl run fixmatch --with la`. */
export const logitAdjustmentMethod = defineAddOn({
  name: 'la',
  kind: 'add-on',
  summary: 'train-time logit adjustment of the labeled logits, + τ·log π_l (post-hoc LA is logged as for every run)',
  paper: 'Menon et al., ICLR 2021; as composed in Oh et al., CVPR 2022',
  code: 'ytaek-oh/daso lib/models/daso_model.py (with_la)',
  defaultBase: 'fixmatch',
  claims: ['labeled-logits'],
  sections: [logitAdjustmentOptions],
  create: (values, ctx) => createLogitAdjustment(values, ctx.labeledClassCounts),
});
