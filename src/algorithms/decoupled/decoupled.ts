import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { option } from '../../options/option-spec.js';
import type { Classifier, NamedVariable } from '../../models/model.js';
import { UserError } from '../../errors.js';
import { SPLIT_FILE_SETTINGS } from '../../data/split-file.js';
import type { Algorithm } from '../algorithm.js';
import { assertLinearHead, defineLearner, type FinishContext, type RunContext } from '../method.js';
import { TAU_GRID, bestTau, tauNormalize } from './tau-norm.js';
import { NCM_METRICS, ncmParameters } from './ncm.js';

/** The stage-2 classifiers of decoupled training. */
export const DECOUPLED_CLASSIFIERS = ['crt', 'tau-norm', 'lws', 'ncm'] as const;
export type DecoupledClassifier = (typeof DECOUPLED_CLASSIFIERS)[number];

/** Options of the decoupled learner (Kang et al., ICLR 2020; docs/methods.md §3). */
export const decoupledOptions = {
  stage1: option(z.string().nullable(), null, 'the finished stage-1 run its backbone comes from, runs/<id> (required)', '<runDir>'),
  classifier: option(
    z.enum(DECOUPLED_CLASSIFIERS),
    'crt',
    'stage 2: crt (re-train a fresh linear head, class-balanced sampling) | tau-norm (w/‖w‖^τ, τ searched on validation) | lws (learn a per-class logit scale) | ncm (nearest class mean)',
    '<name>',
  ),
  ncmMetric: option(z.enum(NCM_METRICS), 'centred-l2', `NCM features and score: ${NCM_METRICS.join(' | ')} (classifier-balancing cl2n / l2n)`, '<name>'),
  crtIterations: option(z.number().int().positive(), 580, 'cRT steps when --iterations is not given (10 epochs of the 3,720-image default labeled split at batch 64)'),
  lwsIterations: option(z.number().int().positive(), 290, 'LWS steps when --iterations is not given (5 epochs of the default labeled split)'),
} as const;

type Values = { classifier: DecoupledClassifier; ncmMetric: (typeof NCM_METRICS)[number]; stage1: string | null; crtIterations: number; lwsIterations: number };

/**
 * The split and backbone settings a stage-2 run shares with its stage 1: the data, every setting a
 * split file records (one list, so the two cannot drift), the split file itself, the seed, the net.
 */
export const STAGE_ONE_SETTINGS = ['dataset', 'dataDir', ...SPLIT_FILE_SETTINGS, 'splitFile', 'seed', 'net'] as const;

/**
 * Stage 2 of a decoupled run that trains: the frozen stage-1 backbone in evaluation mode (its
 * BatchNorm statistics stay those of stage 1), the head in training form, the labeled-loss slot.
 * cRT trains the whole fresh head, LWS only its per-class scales.
 */
export function createDecoupled(values: Pick<Values, 'classifier'>, ctx: Pick<RunContext, 'labeledLoss'>): Algorithm {
  const scalesOnly = values.classifier === 'lws';
  return {
    name: `decoupled-${values.classifier}`,
    usesUnlabeled: false,
    trains: scalesOnly ? (v) => v.inHead && v.name.endsWith('.scales') : (v) => v.inHead,
    prepare() {},
    loss(batch, stepCtx) {
      const { features } = stepCtx.model.forward(batch.labeledImages, false);
      const lossLabeled = ctx.labeledLoss(stepCtx.model.head(features), batch.labeledLabels, stepCtx.step);
      return { total: lossLabeled, terms: { lossLabeled: lossLabeled.clone() } };
    },
    afterStep() {},
    state: () => ({ json: {}, arrays: {} }),
    restore() {},
    dispose() {},
  };
}

function headVariable(model: Classifier, suffix: string): NamedVariable {
  const found = [...model.params, ...model.buffers].find((v) => model.headVariables.has(v.name) && v.name.endsWith(suffix));
  if (!found) throw new Error(`decoupled: the ${model.net} head has no variable *${suffix}`);
  return found;
}

function assign(v: NamedVariable, data: Float32Array): void {
  tf.tidy(() => v.variable.assign(tf.tensor(data, v.variable.shape, 'float32')));
}

/** τ-norm: the τ of the grid with the best validation balanced accuracy, applied to both models. */
function finishTauNorm(ctx: FinishContext): Record<string, number | string> {
  const [inF, outF] = headVariable(ctx.models[0], '.weight').variable.shape;
  const originals = ctx.models.map((m) => ({ w: headVariable(m, '.weight'), b: headVariable(m, '.bias'), data: headVariable(m, '.weight').variable.dataSync() as Float32Array }));
  const zeros = new Float32Array(outF);
  const apply = (tau: number): void =>
    originals.forEach((o) => {
      assign(o.w, tauNormalize(o.data, inF, outF, tau));
      assign(o.b, zeros);
    });
  const evaluated = ctx.models[ctx.models.length - 1];
  const { tau, score, scores } = bestTau(TAU_GRID, (t) => {
    apply(t);
    const acc = ctx.validationAccuracy(evaluated);
    if (acc === null) throw new UserError('--classifier tau-norm', 'searches τ on the validation split, and this run has none', 'Pass --validation-per-class N with N ≥ 1 (the stage-1 run must use the same).');
    return acc;
  });
  apply(tau);
  ctx.log(`τ-norm: τ = ${tau} (validation balanced accuracy ${(score * 100).toFixed(2)}%; τ = 0: ${(scores[0] * 100).toFixed(2)}%)`);
  return { tau, tauValidationBalancedAccuracy: score };
}

/** NCM: class means of the labeled split's features under the evaluated model, into both models' heads. */
function finishNcm(ctx: FinishContext, metric: (typeof NCM_METRICS)[number]): Record<string, number | string> {
  const evaluated = ctx.models[ctx.models.length - 1];
  const { features, labels } = ctx.labeledFeatures(evaluated);
  const p = ncmParameters(features, labels, evaluated.featureDim, evaluated.numClasses, metric);
  for (const m of ctx.models) {
    assign(headVariable(m, '.feature_mean'), p.mean);
    assign(headVariable(m, '.weight'), p.weight);
    assign(headVariable(m, '.bias'), p.bias);
  }
  ctx.log(`NCM (${metric}): class means of ${labels.length} labeled images`);
  return { ncmMetric: metric, ncmImages: labels.length };
}

/** The registry entry of decoupled training's stage 2. */
export const decoupledMethod = defineLearner({
  name: 'decoupled',
  kind: 'supervised',
  summary: 'decoupled stage 2 on a finished run (--stage1): cRT, τ-norm, LWS or NCM',
  paper: 'Kang et al., ICLR 2020',
  code: 'facebookresearch/classifier-balancing',
  sections: [decoupledOptions],
  create: (values, ctx) => createDecoupled(values, ctx),
  model: (values) => ({
    head:
      values.classifier === 'lws'
        ? { kind: 'lws' }
        : values.classifier === 'ncm'
          ? { kind: 'ncm', centred: values.ncmMetric === 'centred-l2' }
          : { kind: 'linear' },
  }),
  startsFrom: { option: 'stage1', sameAs: STAGE_ONE_SETTINGS, keepHead: (values) => values.classifier === 'tau-norm' || values.classifier === 'lws' },
  iterations: {
    of: (values) => (values.classifier === 'crt' ? values.crtIterations : values.classifier === 'lws' ? values.lwsIterations : 0),
    describe: 'cRT --crt-iterations, LWS --lws-iterations, τ-norm and NCM 0',
  },
  validate: (values, config) => {
    assertLinearHead('decoupled', `its stage-2 head comes from --classifier ${values.classifier}`, config);
    if (values.stage1 === null) {
      throw new UserError('--stage1', `is required: decoupled --classifier ${values.classifier} starts from a finished run`, 'Pass --stage1 runs/<id> (a finished ssl run supervised, for example).');
    }
    const trainsNothing = values.classifier === 'tau-norm' || values.classifier === 'ncm';
    if (trainsNothing && config.iterations !== 0) {
      throw new UserError('--iterations', `--classifier ${values.classifier} trains nothing (it transforms the stage-1 classifier), got ${String(config.iterations)}`, 'Drop --iterations.');
    }
    if (values.classifier === 'tau-norm' && config.validationPerClass === 0) {
      throw new UserError('--classifier tau-norm', 'searches τ on the validation split, and this run has --validation-per-class 0', 'Use a stage-1 run with a validation split.');
    }
  },
  finish: (values, ctx) => (values.classifier === 'tau-norm' ? finishTauNorm(ctx) : values.classifier === 'ncm' ? finishNcm(ctx, values.ncmMetric) : {}),
});
