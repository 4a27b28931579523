/** The parts of a training loop's wall time `ssl bench --end-to-end` and the run summary report. */
export const LOOP_PHASES = ['batches', 'steps', 'evaluation', 'checkpoints', 'boundaries'] as const;
export type LoopPhase = (typeof LOOP_PHASES)[number];

/**
 * Seconds per loop phase: `batches` waiting for the pipeline's next batch, `steps` the training
 * step with its pseudo-label bookkeeping, `evaluation` the EMA model's validation and test passes,
 * `checkpoints` writing them, `boundaries` add-on work between steps (DARP, CReST, DASO's
 * generations). The rest of the loop's wall time (progress, events) is `other`.
 */
export type PhaseSeconds = Readonly<Record<LoopPhase | 'other', number>>;

/** "steps 71% · evaluation 24% · batches 3% · …", largest first, phases under 0.5% left out. */
export function formatPhaseShares(p: PhaseSeconds): string {
  const entries = Object.entries(p) as Array<[string, number]>;
  const total = entries.reduce((s, [, v]) => s + v, 0);
  if (!(total > 0)) return 'no time recorded';
  return entries
    .filter(([, v]) => v / total >= 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([name, v]) => `${name} ${Math.round((100 * v) / total)}%`)
    .join(' · ');
}
