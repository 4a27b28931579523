import type * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../../errors.js';
import type { AddOn, UnlabeledView } from '../add-on.js';
import type { AlgorithmState } from '../algorithm.js';
import type { BoundaryContext, BoundaryOutcome, Generation } from '../boundary.js';
import { defineAddOn } from '../method.js';
import { DistributionAligner, temperedTarget } from './alignment.js';
import { ALIGN_WINDOW, crestOptions, generationBoundaries, progressiveTemperature, type CrestOptions } from './options.js';
import { inclusionRates, selectConfident } from './selection.js';

/** What CReST needs to know about the run besides its options. */
export interface CrestContext {
  readonly numClasses: number;
  /** n_c of the labeled split: the inclusion rates and the alignment target come from it. */
  readonly labeledClassCounts: readonly number[];
  readonly iterations: number;
}

/**
 * CReST / CReST+ (Wei et al., CVPR 2021) as an add-on, following ytaek-oh/daso
 * lib/algorithm/fm_crest.py (and rm_crest.py) with google-research/crest data/cifar.py:
 * - the run is cut into `crestGenerations` generations of equal length (DASO's GEN_PERIOD_STEPS);
 * - at the end of each but the last, the EMA model (evaluation mode, no augmentation) predicts the
 *   unlabeled split; of the samples predicted as class k, the ⌊μ_k·#⌋ most confident join the
 *   labeled set with label k, μ_k = (n_{(C−1−r_k)}/n_{(0)})^(1/α) (src/algorithms/crest/selection.ts);
 *   the picks REPLACE the previous generation's (initial labeled set + this generation's picks);
 *   the unlabeled set is unchanged;
 * - the trainer then re-initialises model, SGD momentum and EMA model and restarts the LR schedule
 *   and EMA warm-up (DASO `_rebuild_models`, `_rebuild_optimizer`, `_rebuild_lr_scheduler`,
 *   EMA step `iter % gen_period_steps`);
 * - CReST+: distribution alignment of the pseudo-label distribution to the labeled distribution
 *   tempered by t_g = 1 − f + f·t_min, f = g/(G−1), over a running mean of the last 128 batches'
 *   predictions that persists across generations (DASO's `DistributionAlignment` is built once).
 *   On ReMixMatch the learner's own alignment takes the temperature (`alignmentTemperature`) and
 *   this add-on does not align again (rm_crest.py `self.dist_align(p, temperature=da_t)`).
 *
 * Deviations: generations end at ⌊g·T/G⌋ where DASO requires G to divide T; the alignment target
 * and the rates use the labeled split's counts throughout, as DASO's (its `p_data` and
 * `mu_per_cls` are computed once); the labeled-loss slot also keeps the split's counts.
 */
export function createCrest(opts: CrestOptions, ctx: CrestContext): AddOn {
  const C = ctx.numClasses;
  const G = opts.crestGenerations;
  const ends = generationBoundaries(ctx.iterations, G);
  const rates = inclusionRates(ctx.labeledClassCounts, opts.crestAlpha);
  const aligner = new DistributionAligner(C, ALIGN_WINDOW);
  let index = 0;
  let positions: Int32Array = new Int32Array(0);
  let labels: Int32Array = new Int32Array(0);
  // The alignment window takes one batch per step: a second call would push the step twice.
  const seen = new WeakSet<UnlabeledView>();
  const temperature = (): number => (opts.crestAlign === 'progressive' ? progressiveTemperature(index, G, opts.crestTMin) : 1);

  return {
    name: 'crest',
    boundaries: ends,
    ...(opts.crestAlign === 'off' ? {} : { alignmentTemperature: () => (opts.crestAlign === 'progressive' ? temperature() : null) }),
    transformTarget(target: tf.Tensor2D, view: UnlabeledView): tf.Tensor2D {
      if (opts.crestAlign === 'off' || view.alignedByLearner === true) return target;
      if (seen.has(view)) throw new Error('crest: transformTarget called twice in one step; the alignment window takes one batch per step');
      seen.add(view);
      return aligner.align(target, temperedTarget(ctx.labeledClassCounts, temperature()));
    },
    atBoundary(boundary: BoundaryContext): BoundaryOutcome {
      const picked = selectConfident(boundary.unlabeledProbs(), C, rates);
      index++;
      positions = picked.positions;
      labels = picked.labels;
      boundary.log(`crest @${boundary.step}: generation ${index + 1}/${G} adds ${picked.positions.length} pseudo-labeled samples [${picked.perClass.join(' ')}]`);
      return {
        newGeneration: true,
        record: { generation: index, predictedPerClass: picked.predictedPerClass, addedPerClass: picked.perClass, rates, ...(opts.crestAlign === 'off' ? {} : { alignTemperature: temperature() }) },
      };
    },
    generation(): Generation {
      return { index, start: index === 0 ? 0 : ends[index - 1], end: index < ends.length ? ends[index] : ctx.iterations, additions: { positions, labels } };
    },
    state(): AlgorithmState {
      const a = aligner.state();
      return {
        json: { generation: index },
        arrays: { additionPositions: positions, additionLabels: labels, alignSums: a.sums, alignSizes: a.sizes, alignPushed: a.pushed },
      };
    },
    restore(state: AlgorithmState) {
      index = state.json.generation as number;
      positions = Int32Array.from(state.arrays.additionPositions as Int32Array);
      labels = Int32Array.from(state.arrays.additionLabels as Int32Array);
      aligner.restore({ sums: state.arrays.alignSums as Float32Array, sizes: state.arrays.alignSizes as Int32Array, pushed: state.arrays.alignPushed as Int32Array });
    },
  };
}

/** Add-ons whose composition with CReST no paper runs, and why (DARP refuses CReST itself). */
const NOT_WITH: Readonly<Record<string, string>> = {
  abc: "neither paper runs them together (ytaek-oh/daso has no CReST + ABC step), and ABC sends its head's targets through CReST+'s alignment, which would count each step's batch twice",
  adsh: "both rescale the pseudo-label distribution per class, and neither paper combines them (Adsh compares against CReST+)",
  debiaspl: 'neither paper combines them: DebiasPL debiases the logits by its own running class prior, CReST+ aligns the pseudo-labels to the labeled distribution',
};

/** The base learners CReST runs on: FixMatch and MixMatch in google-research/crest, FixMatch and ReMixMatch in ytaek-oh/daso. */
const CREST_BASES = ['fixmatch', 'mixmatch', 'remixmatch'];

/** The registry entry of CReST+: `ssl run crest` is FixMatch + CReST+. */
export const crestMethod = defineAddOn({
  name: 'crest',
  kind: 'add-on',
  summary: 'generations of re-training, each adding the most confident pseudo-labels per class at tail-favouring rates; CReST+ aligns pseudo-labels progressively',
  paper: 'Wei et al., CVPR 2021',
  code: 'ytaek-oh/daso lib/algorithm/fm_crest.py; google-research/crest',
  defaultBase: 'fixmatch',
  requires: ['pseudo-label-target'],
  chartMarkers: (values, run) => generationBoundaries(run.iterations, values.crestGenerations).map((step, g) => ({ step, label: `CReST generation ${g + 2}` })),
  sections: [crestOptions],
  validate: (values, config) => {
    const base = String(config.algorithm);
    if (!CREST_BASES.includes(base)) {
      throw new UserError(
        '--with',
        `crest cannot be added to ${base}: CReST's code retrains FixMatch and MixMatch (google-research/crest), DASO's FixMatch and ReMixMatch (lib/algorithm/fm_crest.py, rm_crest.py)`,
        'Use crest with fixmatch (or mixmatch, remixmatch).',
      );
    }
    for (const other of (config.with as readonly string[] | undefined) ?? []) {
      const why = NOT_WITH[other];
      if (why) throw new UserError('--with', `crest and ${other} cannot be combined: ${why}`, 'Drop one of them.');
    }
    const iterations = config.iterations as number;
    if (values.crestGenerations > iterations) {
      throw new UserError('--crest-generations', `${values.crestGenerations} generations do not fit in ${iterations} steps`, `Give at most ${iterations} (DASO: 5 of 250k steps).`);
    }
  },
  create: (values, ctx) => createCrest(values, ctx),
});
