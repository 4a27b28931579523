import { z } from 'zod';
import { option, type SectionValues } from '../../options/option-spec.js';
import type { UnlabeledRampupOptions } from '../unlabeled-rampup.js';

/**
 * ReMixMatch options (docs/methods.md §4f): ytaek-oh/daso lib/config/defaults.py
 * ALGORITHM.REMIXMATCH and MODEL.DIST_ALIGN with configs/cifar10/remixmatch.yaml over them.
 * This file is the only home of their defaults. The ramp-up of λ_u and the pre-mixup weight is
 * the shared `--unlabeled-rampup` section; the presets set DASO's value (linear, 0.016).
 */
export const remixmatchOptions = {
  remixmatchStrongViews: option(z.number().int().min(1).max(8), 2, 'K, strong views per unlabeled image anchored to the weak view\'s guess (DASO REMIXMATCH.NUM_AUG: 2)'),
  remixmatchTemperature: option(z.number().positive(), 0.5, 'sharpening temperature T of the guess (DASO REMIXMATCH.TEMPERATURE: 0.5)'),
  remixmatchAlpha: option(z.number().positive(), 0.75, 'mixup λ ~ Beta(α, α), then λ\' = max(λ, 1 − λ) (DASO MIXUP_ALPHA: 0.75)'),
  remixmatchLambdaU: option(z.number().min(0), 1.5, 'weight λ_u of the mixed unlabeled cross-entropy (DASO UNLABELED_LOSS_WEIGHT: 1.5)'),
  remixmatchKlWeight: option(z.number().min(0), 0.5, 'weight of the pre-mixup loss of the first strong view against the guess (DASO WEIGHT_KL: 0.5)'),
  remixmatchRotationWeight: option(z.number().min(0), 0.5, 'weight of the rotation self-supervision loss, not ramped (DASO WEIGHT_ROT: 0.5)'),
  remixmatchDistAlign: option(
    z.enum(['auto', 'on', 'off']),
    'auto',
    'distribution alignment of the guess to the labeled class distribution; auto = on when γ_l = γ_u, off otherwise (DASO configs: DIST_ALIGN.APPLY True on CIFAR, False "for γ_l != γ_u" on STL-10)',
    '<auto|on|off>',
  ),
  remixmatchDistAlignTemperature: option(z.number().positive(), 1, 'temperature t of the alignment target π ∝ (n_k / Σn)^t (DASO DIST_ALIGN.TEMPERATURE: 1)'),
  remixmatchDistAlignWindow: option(z.number().int().positive(), 128, 'batches in the running mean of the predictions the alignment divides by (DASO dist_align.py Queue max_size: 128)'),
} as const;

export type ReMixMatchOptions = Readonly<Omit<SectionValues<typeof remixmatchOptions>, 'remixmatchDistAlign'>> & UnlabeledRampupOptions & {
  /** Resolved (never 'auto' once a run starts). */
  readonly remixmatchDistAlign: 'on' | 'off';
};

/**
 * `auto` distribution alignment as DASO's configs choose it: on when the labeled and unlabeled
 * sets share their imbalance (CIFAR configs, γ_l = γ_u), off otherwise (configs/stl10/remixmatch.yaml:
 * "For γ_l != γ_u, originally we do not apply dist_align"), since the target is the labeled
 * distribution.
 */
export function resolveDistAlign(value: 'auto' | 'on' | 'off', gammaL: number, gammaU: number): 'on' | 'off' {
  if (value !== 'auto') return value;
  return gammaL === gammaU ? 'on' : 'off';
}
