import { z } from 'zod';
import { option, type SectionValues } from '../../options/option-spec.js';

/**
 * DASO options (docs/methods.md §5; ytaek-oh/daso lib/config/defaults.py and configs/cifar10/*daso*.yaml).
 * This file is the only home of their defaults.
 */
export const dasoOptions = {
  dasoWarmup: option(z.number().int().nonnegative(), 5000, 'steps before blending and L_align start, P (queues fill from step 0; DASO: 5000)'),
  dasoQueueSize: option(z.number().int().positive(), 256, 'per-class prototype queue length L (DASO: 256)'),
  dasoProtoTemperature: option(z.number().positive(), 0.05, 'T_proto, temperature of the cosine similarities to prototypes (DASO: 0.05)'),
  dasoDistTemperature: option(
    z.union([z.number().positive(), z.literal('auto')]),
    'auto',
    'T_dist of the blending weights v_k = (m̂_k / max m̂)^(1/T_dist); auto = DASO configs: 10-class data 1.5 when γ_l = γ_u else 0.3; otherwise 0.3',
    '<t|auto>',
  ),
  dasoHistogramWindow: option(z.number().int().positive(), 100, 'steps per pseudo-label histogram window m̂, replaced each window (DASO PL_DIST_UPDATE_PERIOD: 100)'),
  dasoBlend: option(z.enum(['dist-aware', 'fixed', 'off']), 'dist-aware', 'pseudo-label blending: distribution-aware v_k, a fixed weight (--daso-interp-alpha), or off (ablation)', '<mode>'),
  dasoInterpAlpha: option(z.number().min(0).max(1), 0.5, 'blend weight when --daso-blend fixed (DASO INTERP_ALPHA: 0.5)'),
  dasoAlign: option(z.enum(['on', 'off']), 'on', 'semantic alignment loss L_align (ablation switch)', '<on|off>'),
  dasoAlignWeight: option(z.number().min(0), 1, 'λ_align, weight of L_align (DASO PSA_LOSS_WEIGHT: 1)'),
} as const;

export type DasoOptions = Readonly<Omit<SectionValues<typeof dasoOptions>, 'dasoDistTemperature'>> & {
  /** Resolved T_dist (never 'auto' once a run starts). */
  readonly dasoDistTemperature: number;
};

/**
 * DASO's T_dist choice: the CIFAR-10 configs use 1.5 when the labeled and unlabeled sets share
 * their imbalance and 0.3 otherwise; CIFAR-100 and STL-10 configs use 0.3. We apply the 10-class
 * rule to every 10-class dataset (Fashion-MNIST, MNIST).
 */
export function resolveDistTemperature(value: number | 'auto', numClasses: number, gammaL: number, gammaU: number): number {
  if (value !== 'auto') return value;
  if (numClasses === 10 && gammaL === gammaU) return 1.5;
  return 0.3;
}
