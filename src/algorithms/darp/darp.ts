import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../../errors.js';
import type { AddOn, UnlabeledView } from '../add-on.js';
import type { AlgorithmState } from '../algorithm.js';
import type { BoundaryContext, BoundaryOutcome } from '../boundary.js';
import { defineAddOn } from '../method.js';
import { estimateUnlabeledDistribution, type DistributionEstimate } from './estimate.js';
import { darpEstimateSteps, darpOptions, darpWarmupSteps, resolveDarpTarget, type DarpOptions } from './options.js';
import { refinePseudoLabels } from './solver.js';

/** What DARP needs to know about the run besides its options. */
export interface DarpContext {
  readonly numClasses: number;
  /** N_u: size of the unlabeled split (its per-sample state). */
  readonly numUnlabeled: number;
  /** n_c of the labeled split: the target's shape under `darpTarget: labeled`. */
  readonly labeledClassCounts: readonly number[];
  readonly iterations: number;
}

/** One estimate of the unlabeled distribution, as checkpointed and recorded. */
interface EstimateRecord extends DistributionEstimate {
  readonly step: number;
}

/**
 * DARP (Kim et al., NeurIPS 2020) as an add-on, following ytaek-oh/daso
 * lib/algorithm/darp_reproduce.py (`DARP.step`, called by lib/algorithm/fixmatch.py on the
 * pseudo-label distribution) and bbuing9/DARP common.py (`estimate_pseudo`, `opt_solver`):
 * - every step, the incoming target p of each unlabeled sample is stored in `pseudoOrig` [N_u, C];
 * - for the first ⌊T·warmup⌋ steps p passes unchanged;
 * - after that, every `darpEvery`-th step (1-based count t with t mod every = 0) the whole of
 *   `pseudoOrig` is refined towards the target counts (`refinePseudoLabels`) into `pseudoRefine`,
 *   and every step's target is its samples' rows of `pseudoRefine` (stale between refinements,
 *   uniform 1/C before the first one, as the official code);
 * - the target counts: the labeled shape scaled to N_u (`labeled`, DARP without --est), or the
 *   average of the accepted confusion-matrix estimates (`estimate`, src/algorithms/darp/estimate.ts)
 *   scaled to N_u, as DASO's `get_target_dist` scales the loaded estimate.
 *
 * Deviations: the estimate comes from this run's EMA model at `darpEstimates` steps of the
 * warm-up's second half, with the validation split as the held-out labeled data (the official
 * code trains a separate supervised model on the labeled split less 10 images per class and
 * averages its accepted per-epoch estimates; holding images out of our labeled split would change
 * the data the +DARP run shares with its baseline). When no estimate is accepted, the labeled
 * shape is the target and the boundary record says so (the official average would be 0/0). The
 * solver computes in float64 where torch used float32; its secant solve returns its last iterate
 * where scipy would raise.
 */
export function createDarp(opts: DarpOptions, ctx: DarpContext): AddOn {
  const C = ctx.numClasses;
  const N = ctx.numUnlabeled;
  const warmupSteps = darpWarmupSteps(ctx.iterations, opts.darpWarmup);
  const estimateSteps = opts.darpTarget === 'estimate' ? darpEstimateSteps(warmupSteps, opts.darpEstimates).filter((s) => s < ctx.iterations) : [];
  const pseudoOrig = new Float32Array(N * C).fill(1 / C);
  const pseudoRefine = new Float32Array(N * C).fill(1 / C);
  let estimates: EstimateRecord[] = [];
  // The store takes one target per sample and step: a second call in a step would overwrite it with another distribution.
  const seen = new WeakSet<UnlabeledView>();

  const labeledShape = (): number[] => {
    const total = ctx.labeledClassCounts.reduce((a, b) => a + b, 0);
    return ctx.labeledClassCounts.map((n) => (n * N) / total);
  };
  /** The target counts [C] (Σ = N_u), or null while an estimate is still to come. */
  const targetCounts = (): { counts: number[]; source: string } | null => {
    if (opts.darpTarget === 'labeled') return { counts: labeledShape(), source: 'labeled' };
    const accepted = estimates.filter((e) => e.accepted);
    if (accepted.length === 0) return estimates.length < estimateSteps.length ? null : { counts: labeledShape(), source: 'labeled (no estimate accepted)' };
    const mean = new Array<number>(C).fill(0);
    for (const e of accepted) e.counts.forEach((v, k) => (mean[k] += v / accepted.length));
    const total = mean.reduce((a, b) => a + b, 0);
    return { counts: mean.map((v) => (v * N) / total), source: `estimate (${accepted.length} of ${estimates.length} accepted)` };
  };

  return {
    name: 'darp',
    boundaries: estimateSteps,
    transformTarget(target: tf.Tensor2D, view: UnlabeledView): tf.Tensor2D {
      if (seen.has(view)) throw new Error('darp: transformTarget called twice in one step; DARP keeps one pseudo-label distribution per sample');
      seen.add(view);
      const positions = view.unlabeledPositions;
      const rows = target.dataSync();
      for (let b = 0; b < positions.length; b++) pseudoOrig.set(rows.subarray(b * C, (b + 1) * C), positions[b] * C);
      const t = view.step + 1;
      if (t <= warmupSteps) return target;
      if (t % opts.darpEvery === 0) {
        const goal = targetCounts();
        if (!goal) throw new Error(`darp: refinement at step ${t} before the estimate of step ${estimateSteps.at(-1)}`);
        pseudoRefine.set(refinePseudoLabels(pseudoOrig, C, goal.counts, { alpha: opts.darpAlpha, iterations: opts.darpIterations }));
      }
      const out = new Float32Array(positions.length * C);
      for (let b = 0; b < positions.length; b++) out.set(pseudoRefine.subarray(positions[b] * C, (positions[b] + 1) * C), b * C);
      return tf.tensor2d(out, [positions.length, C]);
    },
    atBoundary(boundary: BoundaryContext): BoundaryOutcome {
      const held = boundary.validationProbs();
      if (!held) throw new UserError('--darp-target', 'estimate needs held-out labeled data, and this run has no validation split', 'Pass --validation-per-class ≥ 1, or --darp-target labeled.');
      const e = estimateUnlabeledDistribution(held, boundary.unlabeledProbs(), C, opts.darpConditionLimit);
      estimates = [...estimates, { step: boundary.step, ...e }];
      const goal = targetCounts();
      const total = e.counts.reduce((a, b) => a + b, 0);
      boundary.log(
        `darp @${boundary.step}: estimate ${e.accepted ? 'accepted' : 'rejected'} (condition ${e.condition.toFixed(1)}): [${e.counts.map((v) => (v / total).toFixed(3)).join(' ')}]` +
          (goal ? `; target: ${goal.source}` : ''),
      );
      return {
        record: {
          estimate: e.counts,
          condition: Number.isFinite(e.condition) ? e.condition : null,
          accepted: e.accepted,
          ...(goal ? { target: goal.counts, targetSource: goal.source } : {}),
        },
      };
    },
    priorEstimate() {
      const goal = targetCounts();
      if (!goal) return null;
      return goal.counts.map((v) => v / N);
    },
    state(): AlgorithmState {
      return { json: { estimates: estimates.map((e) => ({ ...e, condition: Number.isFinite(e.condition) ? e.condition : null })) }, arrays: { pseudoOrig, pseudoRefine } };
    },
    restore(state: AlgorithmState) {
      pseudoOrig.set(state.arrays.pseudoOrig as Float32Array);
      pseudoRefine.set(state.arrays.pseudoRefine as Float32Array);
      const saved = (state.json.estimates ?? []) as Array<Omit<EstimateRecord, 'condition'> & { condition: number | null }>;
      estimates = saved.map((e) => ({ ...e, condition: e.condition ?? Number.POSITIVE_INFINITY }));
    },
  };
}

/** Add-ons whose composition with DARP neither paper runs, and why. */
const NOT_WITH: Readonly<Record<string, string>> = {
  daso: 'both rewrite the pseudo-label target, and neither paper combines them (DASO compares against DARP; its code applies DARP to plain FixMatch and ReMixMatch)',
  crest: "ytaek-oh/daso's CReST step (lib/algorithm/fm_crest.py) applies no DARP, and a new generation's model would start from the previous model's refined labels",
  abc: "neither paper combines them, and ABC sends its own head's targets through the other add-ons' transforms, which would overwrite DARP's per-sample store of the classifier's pseudo-labels",
  adsh: 'both rewrite the pseudo-label target, and neither paper combines them (Adsh compares against DARP)',
  debiaspl: 'neither paper combines them: DebiasPL debiases the logits the pseudo-labels come from, DARP re-balances the labels themselves',
};

/** The base learners DARP's paper and code apply it to (bbuing9/DARP arguments.py `--semi_method mix | remix | fix`). */
const DARP_BASES = ['fixmatch', 'mixmatch', 'remixmatch'];

/** The registry entry of DARP: `ssl run darp` is FixMatch + DARP. */
export const darpMethod = defineAddOn({
  name: 'darp',
  kind: 'add-on',
  summary: 'refines the stored pseudo-labels by convex optimisation so their histogram matches the (estimated) unlabeled distribution',
  paper: 'Kim et al., NeurIPS 2020',
  code: 'ytaek-oh/daso lib/algorithm/darp_reproduce.py; bbuing9/DARP common.py',
  defaultBase: 'fixmatch',
  requires: ['pseudo-label-target'],
  chartMarkers: (values, run) => [{ step: darpWarmupSteps(run.iterations, values.darpWarmup), label: 'DARP warm-up ends' }],
  sections: [darpOptions],
  resolve: (values, data) => ({ ...values, darpTarget: resolveDarpTarget(values.darpTarget, data.gammaL, data.gammaU) }),
  validate: (values, config) => {
    const base = String(config.algorithm);
    if (!DARP_BASES.includes(base)) {
      throw new UserError('--with', `darp cannot be added to ${base}: DARP's paper and code refine the pseudo-labels of MixMatch, ReMixMatch and FixMatch only (bbuing9/DARP --semi_method mix|remix|fix)`, 'Use darp with fixmatch (or mixmatch, remixmatch).');
    }
    for (const other of (config.with as readonly string[] | undefined) ?? []) {
      const why = NOT_WITH[other];
      if (why) throw new UserError('--with', `darp and ${other} cannot be combined: ${why}`, 'Drop one of them.');
    }
    const target = resolveDarpTarget(values.darpTarget, config.gammaL as number, config.gammaU as number);
    if (target !== 'estimate') return;
    const why = values.darpTarget === 'auto' ? ` (--darp-target auto picks it because γ_l ${String(config.gammaL)} ≠ γ_u ${String(config.gammaU)})` : '';
    if (config.validationPerClass === 0) {
      throw new UserError('--darp-target', `estimate${why} needs held-out labeled data, and --validation-per-class is 0`, 'Pass --validation-per-class ≥ 1 (DARP holds out 10 per class), or --darp-target labeled.');
    }
    if (darpWarmupSteps(config.iterations as number, values.darpWarmup) < 1) {
      throw new UserError('--darp-warmup', `estimate${why} is taken during the warm-up, and ${values.darpWarmup} of ${String(config.iterations)} steps leaves none`, 'Raise --darp-warmup (DARP: 0.4), or pass --darp-target labeled.');
    }
  },
  create: (values, ctx) => {
    const target = values.darpTarget;
    if (target === 'auto') throw new Error("darp: darpTarget is still 'auto'; the run's resolve step fills it from the data");
    return createDarp({ ...values, darpTarget: target }, ctx);
  },
});
