import type { Algorithm } from './algorithm.js';
import { createFixMatch } from './fixmatch.js';
import { createDaso } from './daso/daso.js';
import { resolveDistTemperature } from './daso/options.js';
import type { RunConfig } from '../config/run-config.js';

export type { Algorithm, TrainBatch, StepContext, StepLoss, StepPseudoLabels, AlgorithmState } from './algorithm.js';
export { createFixMatch, maskedPseudoLabelLoss, type FixMatchOptions, type PseudoLabelAddOn } from './fixmatch.js';
export { createDaso, type DasoContext } from './daso/daso.js';
export { PrototypeQueue } from './daso/prototype-queue.js';
export { PseudoLabelHistogram, distributionAwareWeights } from './daso/pseudo-label-histogram.js';
export { blendPseudoLabels } from './daso/blending.js';
export { semanticAlignmentLoss } from './daso/alignment-loss.js';
export { semanticPseudoLabels, prototypeLogits } from './daso/semantic-pseudo-labels.js';
export { resolveDistTemperature, type DasoOptions } from './daso/options.js';

/** What an algorithm factory gets about the run. */
export interface AlgorithmContext {
  readonly numClasses: number;
  readonly featureDim: number;
}

/** Builds the algorithm a RunConfig names. One line per algorithm. */
export function createAlgorithm(config: RunConfig, ctx: AlgorithmContext): Algorithm {
  switch (config.algorithm) {
    case 'fixmatch':
      return createFixMatch(config);
    case 'daso':
      return createFixMatch(config, createDaso(dasoOptionsOf(config, ctx.numClasses), { ...ctx, iterations: config.iterations }));
  }
}

function dasoOptionsOf(config: RunConfig, numClasses: number) {
  const need = <T>(v: T | undefined, key: string): T => {
    if (v === undefined) throw new Error(`createAlgorithm: DASO option ${key} missing from the RunConfig`);
    return v;
  };
  return {
    dasoWarmup: need(config.dasoWarmup, 'dasoWarmup'),
    dasoQueueSize: need(config.dasoQueueSize, 'dasoQueueSize'),
    dasoProtoTemperature: need(config.dasoProtoTemperature, 'dasoProtoTemperature'),
    dasoDistTemperature: resolveDistTemperature(need(config.dasoDistTemperature, 'dasoDistTemperature'), numClasses, config.gammaL, config.gammaU),
    dasoHistogramWindow: need(config.dasoHistogramWindow, 'dasoHistogramWindow'),
    dasoBlend: need(config.dasoBlend, 'dasoBlend'),
    dasoInterpAlpha: need(config.dasoInterpAlpha, 'dasoInterpAlpha'),
    dasoAlign: need(config.dasoAlign, 'dasoAlign'),
    dasoAlignWeight: need(config.dasoAlignWeight, 'dasoAlignWeight'),
  };
}
