import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from '../../ops/stop-gradient.js';
import type { PseudoLabelAddOn, RefineInput, RefineOutput } from '../fixmatch.js';
import type { AlgorithmState, StepContext, StepPseudoLabels, TrainBatch } from '../algorithm.js';
import type { DasoOptions } from './options.js';
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

/**
 * DASO (Oh et al., CVPR 2022; ytaek-oh/daso lib/models/daso_model.py) as an add-on to FixMatch:
 * 1. every step, labeled images through the EMA encoder (train-mode BN, as the official EMA model
 *    stays in train mode) feed per-class prototype queues;
 * 2. after warm-up, semantic pseudo-labels q from the student's weak features;
 * 3. the linear p is blended with q by distribution-aware weights v_k from the last window's
 *    histogram of final pseudo-labels (or a fixed weight / no blending for ablations);
 * 4. the semantic alignment loss on the strong features.
 */
export function createDaso(opts: DasoOptions, ctx: DasoContext): PseudoLabelAddOn {
  const queue = new PrototypeQueue(ctx.numClasses, ctx.featureDim, opts.dasoQueueSize);
  const histogram = new PseudoLabelHistogram(ctx.numClasses, opts.dasoHistogramWindow);

  const active = (step: number): boolean => step >= opts.dasoWarmup;

  return {
    name: 'daso',
    prepare(batch: TrainBatch, stepCtx: StepContext) {
      // Official order: the queue is pushed before the student forward, so this step's prototypes
      // already include this batch's labeled features.
      const { features, labels } = tf.tidy(() => {
        const out = stepCtx.ema.forward(batch.labeledImages, true);
        return { features: out.features.dataSync() as Float32Array, labels: batch.labeledLabels.dataSync() as Int32Array };
      });
      queue.push(features, labels);
    },
    refine(input: RefineInput): RefineOutput {
      if (!active(input.step)) return { probs: input.probs, losses: {} };
      const prototypes = tf.tensor2d(queue.prototypes(), [ctx.numClasses, ctx.featureDim]);
      const q = semanticPseudoLabels(stopGradient(input.featuresWeak), prototypes, opts.dasoProtoTemperature);
      const semantic = tf.argMax(q, 1) as tf.Tensor1D;
      let probs = input.probs;
      if (opts.dasoBlend === 'fixed') {
        probs = blendPseudoLabels(input.probs, q, opts.dasoInterpAlpha);
      } else if (opts.dasoBlend === 'dist-aware') {
        const v = tf.tensor1d(distributionAwareWeights(histogram.counts(), opts.dasoDistTemperature));
        probs = blendPseudoLabels(input.probs, q, v);
      }
      const losses: Record<string, tf.Scalar> = {};
      if (opts.dasoAlign === 'on' && opts.dasoAlignWeight > 0) {
        const strongLogits = prototypeLogits(input.featuresStrong, prototypes, opts.dasoProtoTemperature);
        losses.lossAlign = tf.mul(semanticAlignmentLoss(strongLogits, q), opts.dasoAlignWeight) as tf.Scalar;
      }
      return { probs, losses, semantic };
    },
    afterStep(pseudoLabels: StepPseudoLabels, step: number) {
      histogram.add(pseudoLabels.final, step, ctx.iterations);
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
    dispose() {
      // All DASO state is plain typed arrays: nothing to free.
    },
  };
}
