import { defineLearner, type RunContext } from './method.js';
import type { Algorithm } from './algorithm.js';

/**
 * The supervised-only learner: the labeled-loss slot on the student's logits of the labeled
 * batch, nothing else (no unlabeled batch is fed). With `--labeled-loss` and `--sampler` it is
 * the base of the long-tailed methods; with the defaults it is plain cross-entropy on the
 * labeled split, the lower bound every SSL method should beat.
 */
export function createSupervised(ctx: Pick<RunContext, 'labeledLoss'>): Algorithm {
  return {
    name: 'supervised',
    usesUnlabeled: false,
    prepare() {},
    loss(batch, stepCtx) {
      const { logits } = stepCtx.model.forward(batch.labeledImages, true);
      const lossLabeled = ctx.labeledLoss(logits, batch.labeledLabels);
      // `terms` gets its own tensor: the trainer disposes the total it gets back from the tape.
      return { total: lossLabeled, terms: { lossLabeled: lossLabeled.clone() } };
    },
    afterStep() {},
    state: () => ({ json: {}, arrays: {} }),
    restore() {},
    dispose() {},
  };
}

/** The registry entry of the supervised learner. */
export const supervisedMethod = defineLearner({
  name: 'supervised',
  kind: 'supervised',
  summary: 'the labeled split only, with the labeled loss and sampler of the run',
  paper: '-',
  code: '-',
  sections: [],
  create: (_values, ctx) => createSupervised(ctx),
});
