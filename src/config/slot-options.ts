import { z } from 'zod';
import { option } from '../options/option-spec.js';
import { labeledLosses } from '../losses/index.js';
import { LABELED_SAMPLERS } from '../data/samplers.js';

const lossNames = labeledLosses.map((l) => l.name) as [string, ...string[]];

/**
 * The slots every learner has: the loss on its labeled logits and the sampler of its labeled
 * batch. Any loss or sampler of the long-tailed set fills them, for supervised and SSL learners alike.
 */
export const slotOptions = {
  labeledLoss: option(
    z.enum(lossNames),
    'ce',
    `loss on the labeled logits: ${labeledLosses.map((l) => `${l.name} (${l.summary})`).join('; ')}`,
    '<loss>',
    'loss',
  ),
  drw: option(
    z.boolean(),
    false,
    'deferred re-weighting (LDAM-DRW): class-balanced weights, β = 0.9999, from the first LR decay on; with --loss ce or ldam and --lr-schedule step',
  ),
  sampler: option(
    z.enum(LABELED_SAMPLERS),
    'instance-balanced',
    `labeled-batch sampler: ${LABELED_SAMPLERS.join(' | ')} (instance-balanced = each image once per epoch, as the official SSL code)`,
    '<name>',
  ),
} as const;
