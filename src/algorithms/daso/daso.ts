import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from '../../ops/stop-gradient.js';
import type { AddOn, UnlabeledView } from '../add-on.js';
import type { AlgorithmState, StepContext, StepPseudoLabels, TrainBatch } from '../algorithm.js';
import { defineAddOn } from '../method.js';
import { dasoOptions, resolveDistTemperature, type DasoOptions } from './options.js';
import { PrototypeQueue } from './prototype-queue.js';
import { PseudoLabelHistogram, distributionAwareWeights } from './pseudo-label-histogram.js';
import { prototypeLogits, semanticPseudoLabels } from './semantic-pseudo-labels.js';
import { blendPseudoLabels } from './blending.js';
import { semanticAlignmentLoss } from './alignment-loss.js';

/** What DASO needs to know about the run besides its options. */
export interface DasoContext {
  readonly numClasses: number;
  readonly featureDim: number;
  /** Total iterations (the histogram does not roll over on the last step, as the official code). */
  readonly iterations: number;
}

/** This step's prototypes and semantic distribution q, shared by DASO's points of one step. */
interface DasoStep {
  readonly prototypes: tf.Tensor2D;
  readonly q: tf.Tensor2D;
}

/**
 * DASO (Oh et al., CVPR 2022; ytaek-oh/daso lib/models/daso_model.py) as an add-on to a base
 * learner that makes pseudo-labels:
 * 1. every step, labeled images through the EMA encoder (train-mode BN, as the official EMA model
 *    stays in train mode) feed per-class prototype queues (`prepare`);
 * 2. after warm-up, semantic pseudo-labels q from the student's weak features (`semantic` source);
 * 3. the target p is blended with q by distribution-aware weights v_k from the last window's
 *    histogram of final pseudo-labels, or a fixed weight, or not at all (`transformTarget`);
 * 4. the semantic alignment loss on the strong features (`lossTerms`).
 */
export function createDaso(opts: DasoOptions, ctx: DasoContext): AddOn {
  const queue = new PrototypeQueue(ctx.numClasses, ctx.featureDim, opts.dasoQueueSize);
  const histogram = new PseudoLabelHistogram(ctx.numClasses, opts.dasoHistogramWindow);
  // Keyed by the step's view object, so a point can only see its own step's q.
  const steps = new WeakMap<UnlabeledView, DasoStep>();

  const active = (step: number): boolean => step >= opts.dasoWarmup;
  const stepOf = (view: UnlabeledView): DasoStep => {
    let s = steps.get(view);
    if (!s) {
      const prototypes = tf.tensor2d(queue.prototypes(), [ctx.numClasses, ctx.featureDim]);
      const q = semanticPseudoLabels(stopGradient(view.featuresWeak), prototypes, opts.dasoProtoTemperature);
      s = { prototypes, q };
      steps.set(view, s);
    }
    return s;
  };

  return {
    name: 'daso',
    sources: ['semantic'],
    prepare(batch: TrainBatch, stepCtx: StepContext) {
      // Official order: the queue is pushed before the student forward, so this step's prototypes
      // already include this batch's labeled features.
      const { features, labels } = tf.tidy(() => {
        const out = stepCtx.ema.forward(batch.labeledImages, true);
        return { features: out.features.dataSync() as Float32Array, labels: batch.labeledLabels.dataSync() as Int32Array };
      });
      queue.push(features, labels);
    },
    transformTarget(target, view) {
      if (!active(view.step) || opts.dasoBlend === 'off') return target;
      const { q } = stepOf(view);
      if (opts.dasoBlend === 'fixed') return blendPseudoLabels(target, q, opts.dasoInterpAlpha);
      const v = tf.tensor1d(distributionAwareWeights(histogram.counts(), opts.dasoDistTemperature));
      return blendPseudoLabels(target, q, v);
    },
    lossTerms(view): Record<string, tf.Scalar> {
      if (!active(view.step) || opts.dasoAlign === 'off' || opts.dasoAlignWeight <= 0) return {};
      const { prototypes, q } = stepOf(view);
      const strongLogits = prototypeLogits(view.featuresStrong, prototypes, opts.dasoProtoTemperature);
      return { lossAlign: tf.mul(semanticAlignmentLoss(strongLogits, q), opts.dasoAlignWeight) as tf.Scalar };
    },
    pseudoLabelSources(view): Record<string, tf.Tensor1D> {
      if (!active(view.step)) return {};
      return { semantic: tf.argMax(stepOf(view).q, 1) as tf.Tensor1D };
    },
    afterStep(pseudoLabels: StepPseudoLabels, stepCtx: StepContext) {
      histogram.add(pseudoLabels.sources.final, stepCtx.step, ctx.iterations);
    },
    // m̂ normalised is DASO's estimate of the unlabeled class distribution (what its blend weights follow).
    priorEstimate() {
      const counts = Array.from(histogram.counts());
      const total = counts.reduce((a, b) => a + b, 0);
      return total > 0 ? counts.map((c) => c / total) : null;
    },
    state(): AlgorithmState {
      const q = queue.state();
      const h = histogram.state();
      return {
        json: { queueSize: opts.dasoQueueSize, histogramWindow: opts.dasoHistogramWindow },
        arrays: {
          queueBank: q.bank,
          queueSizes: q.size,
          queueHeads: q.head,
          prototypes: q.protos,
          histogramPending: h.pending,
          histogramCurrent: h.current,
        },
      };
    },
    restore(state: AlgorithmState) {
      const a = state.arrays;
      queue.restore({
        bank: a.queueBank as Float32Array,
        size: a.queueSizes as Int32Array,
        head: a.queueHeads as Int32Array,
        protos: a.prototypes as Float32Array,
      });
      histogram.restore({ pending: a.histogramPending as Float32Array, current: a.histogramCurrent as Float32Array });
    },
  };
}

/** The registry entry of DASO: `ssl run daso` is FixMatch + DASO. */
export const dasoMethod = defineAddOn({
  name: 'daso',
  kind: 'add-on',
  summary: 'distribution-aware blend of linear and semantic (prototype) pseudo-labels, plus semantic alignment',
  paper: 'Oh et al., CVPR 2022',
  code: 'ytaek-oh/daso lib/models/daso_model.py',
  defaultBase: 'fixmatch',
  requires: ['pseudo-label-target'],
  sections: [dasoOptions],
  resolve: (values, data) => ({
    ...values,
    dasoDistTemperature: resolveDistTemperature(values.dasoDistTemperature, data.numClasses, data.gammaL, data.gammaU),
  }),
  chartMarkers: (values) => [{ step: values.dasoWarmup, label: 'DASO warm-up ends' }],
  create: (values, ctx) => {
    const t = values.dasoDistTemperature;
    if (t === 'auto') throw new Error("daso: dasoDistTemperature is still 'auto'; the run's resolve step fills it from the data");
    return createDaso({ ...values, dasoDistTemperature: t }, { numClasses: ctx.numClasses, featureDim: ctx.featureDim, iterations: ctx.iterations });
  },
});
