/** The learning-rate schedule of a run, from the trainer options. */
export interface LrSchedule {
  /** Base learning rate. */
  readonly lr: number;
  /** `constant` (DASO's SSL runs), `step` (decays at milestones), `cosine`, `fixmatch-cosine`. */
  readonly kind: 'constant' | 'step' | 'cosine' | 'fixmatch-cosine';
  /** Linear warm-up length as a fraction of the run (LDAM-DRW: 5 of 200 epochs = 0.025). */
  readonly warmup: number;
  /** `step`: fractions of the run where the rate is multiplied by `decay` (LDAM-DRW: 160, 180 of 200). */
  readonly milestones: readonly number[];
  /** `step`: factor per milestone (LDAM-DRW: 0.01). */
  readonly decay: number;
}

/**
 * The learning rate at 0-based step t of T, one implementation for every schedule:
 * - warm-up: lr · (t + 1) / W for t < W = round(warmup · T) (LDAM-DRW `adjust_learning_rate`
 *   ramps by the 1-based epoch in the same way);
 * - `constant`: lr;
 * - `step`: lr · decay^k, k = the number of milestones m with t ≥ round(m · T);
 * - `cosine`: lr · ½(1 + cos(π (t − W) / (T − W))), from the end of the warm-up to 0 at T;
 * - `fixmatch-cosine`: lr · max(0, cos(7π (t − W) / (16 (T − W)))), FixMatch's schedule as
 *   kekmodel/FixMatch-pytorch `get_cosine_schedule_with_warmup` (num_cycles 7/16) writes it, and
 *   with it Gank0078/ACR, LeapLabTHU/SimPro, zhouzihao11/CCL and USB: it ends at cos(7π/16) ≈ 0.195·lr.
 */
export function learningRateAt(step: number, iterations: number, s: LrSchedule): number {
  const warm = Math.round(s.warmup * iterations);
  if (step < warm) return (s.lr * (step + 1)) / warm;
  switch (s.kind) {
    case 'constant':
      return s.lr;
    case 'step': {
      const passed = s.milestones.filter((m) => step >= Math.round(m * iterations)).length;
      return s.lr * Math.pow(s.decay, passed);
    }
    case 'cosine':
      return s.lr * 0.5 * (1 + Math.cos((Math.PI * (step - warm)) / Math.max(1, iterations - warm)));
    case 'fixmatch-cosine':
      return s.lr * Math.max(0, Math.cos((7 * Math.PI * (step - warm)) / (16 * Math.max(1, iterations - warm))));
  }
}

/** The first step at which a `step` schedule decays (DRW switches its weights on there), or null. */
export function firstDecayStep(iterations: number, s: LrSchedule): number | null {
  if (s.kind !== 'step' || s.milestones.length === 0) return null;
  return Math.round(Math.min(...s.milestones) * iterations);
}
