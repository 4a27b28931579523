import { MethodRegistry } from './registry.js';
import { fixmatchMethod } from './fixmatch.js';
import { dasoMethod } from './daso/daso.js';
import { supervisedMethod } from './supervised.js';
import { decoupledMethod } from './decoupled/decoupled.js';
import { bbnMethod } from './bbn.js';
import { logitAdjustmentMethod } from './logit-adjustment.js';
import { abcMethod } from './abc.js';
import { pseudoLabelMethod } from './pseudo-label.js';
import { meanTeacherMethod } from './mean-teacher.js';
import { flexmatchMethod } from './flexmatch/flexmatch.js';
import { sawMethod } from './saw/saw.js';
import { adshMethod } from './adsh/adsh.js';
import { debiasplMethod } from './debiaspl/debiaspl.js';
import { mixmatchMethod } from './mixmatch/mixmatch.js';
import { remixmatchMethod } from './remixmatch/remixmatch.js';
import { darpMethod } from './darp/darp.js';
import { crestMethod } from './crest/crest.js';
import { acrMethod } from './acr/acr.js';
import { simproMethod } from './simpro/simpro.js';
import { cpeMethod } from './cpe/cpe.js';
import { cclMethod } from './ccl/ccl.js';

/**
 * Every built-in method, one line each: base learners, supervised learners, add-ons. RunConfig,
 * `--help`, `--list`, preset validation and checkpoints derive from this list.
 */
export const builtInMethods = [
  fixmatchMethod,
  pseudoLabelMethod,
  meanTeacherMethod,
  flexmatchMethod,
  mixmatchMethod,
  remixmatchMethod,
  supervisedMethod,
  decoupledMethod,
  bbnMethod,
  dasoMethod,
  logitAdjustmentMethod,
  abcMethod,
  sawMethod,
  adshMethod,
  debiasplMethod,
  darpMethod,
  crestMethod,
  acrMethod,
  simproMethod,
  cpeMethod,
  cclMethod,
] as const;

/** The method registry of this process: the built-ins, plus whatever `registry.register` adds. */
export const registry = new MethodRegistry(builtInMethods);

/** The plain supervised learner: relative accuracy's A_v reference is it with CE on a balanced set. */
export const SUPERVISED_BASELINE = supervisedMethod.name;

/** The method `ssl data split` and `ssl bench` take their presets and defaults from. */
export const DEFAULT_METHOD = fixmatchMethod.name;

export type { Algorithm, TrainBatch, StepContext, StepLoss, StepPseudoLabels, PseudoLabelTensors, AlgorithmState } from './algorithm.js';
export { composeAddOns, EXCLUSIVE_POINTS, type AddOn, type AddOnChain, type ExclusivePoint, type LabeledView, type LogitContext, type TargetTransform, type UnlabeledView } from './add-on.js';
export { weakViews, strongViews } from './algorithm.js';
export {
  defineAddOn,
  defineLearner,
  type AddOnEntry,
  type ChartMarker,
  type DataFacts,
  type FinishContext,
  type ModelNeeds,
  type StartsFrom,
  type LabeledLoss,
  type LearnerCapability,
  type LearnerEntry,
  type MethodEntry,
  type MethodKind,
  type RunContext,
  type SectionsValues,
  type UnlabeledViews,
} from './method.js';
export { MethodRegistry, type Composition, type LearnerHooks, type SlotClaim } from './registry.js';
export { createFixMatch, fixmatchOptions, maskedPseudoLabelLoss, type FixMatchOptions } from './fixmatch.js';
export { createSupervised } from './supervised.js';
export { createPseudoLabel, pseudoLabelOptions, type PseudoLabelOptions } from './pseudo-label.js';
export { createMeanTeacher, meanTeacherOptions, softmaxMseLoss, type MeanTeacherOptions } from './mean-teacher.js';
export { createFlexMatch, flexmatchOptions, type FlexMatchOptions } from './flexmatch/flexmatch.js';
export { CurriculumThresholds, convexMapping, learningEffects } from './flexmatch/curriculum-thresholds.js';
export { unlabeledRampupOptions, unlabeledRampupWeight, type UnlabeledRampupOptions } from './unlabeled-rampup.js';
export { createMixMatch, mixmatchOptions, type MixMatchOptions } from './mixmatch/mixmatch.js';
export { sharpen, guessLabels } from './mixmatch/sharpen.js';
export { mixupDraw, mixWithPartner, type MixupDraw } from './mixmatch/mixup.js';
export { createReMixMatch, ROTATION_HEAD } from './remixmatch/remixmatch.js';
export { remixmatchOptions, resolveDistAlign, type ReMixMatchOptions } from './remixmatch/options.js';
export { alignDistribution, alignmentTarget, PredictionQueue } from './remixmatch/distribution-alignment.js';
export { rotateQuarterTurns, rotationDraw } from './remixmatch/rotation.js';
export { createDaso, type DasoContext } from './daso/daso.js';
export { dasoOptions } from './daso/options.js';
export { PrototypeQueue } from './daso/prototype-queue.js';
export { PseudoLabelHistogram, distributionAwareWeights } from './daso/pseudo-label-histogram.js';
export { blendPseudoLabels } from './daso/blending.js';
export { semanticAlignmentLoss } from './daso/alignment-loss.js';
export { semanticPseudoLabels, prototypeLogits } from './daso/semantic-pseudo-labels.js';
export { resolveDistTemperature, type DasoOptions } from './daso/options.js';
export { createSaw, sawOptions, type SawContext, type SawOptions } from './saw/saw.js';
export { effectiveBeta, smoothedClassWeights } from './saw/class-weights.js';
export { createAdsh, adshOptions, type AdshContext, type AdshOptions } from './adsh/adsh.js';
export { adaptiveThresholds, roundHalfEven } from './adsh/adaptive-thresholds.js';
export { createDebiaspl, debiasplOptions, type DebiasplOptions } from './debiaspl/debiaspl.js';
export { debiasedLogits, meanPrediction, updateClassPrior } from './debiaspl/class-prior.js';
export { cldLoss } from './debiaspl/cld-loss.js';
export type { BoundaryContext, BoundaryOutcome, Generation, LabeledAdditions, RunHooks } from './boundary.js';
export { createDarp, type DarpContext } from './darp/darp.js';
export { darpOptions, resolveDarpTarget, type DarpOptions } from './darp/options.js';
export { refinePseudoLabels, scaleToTarget, darpSolve } from './darp/solver.js';
export { estimateUnlabeledDistribution, type DistributionEstimate } from './darp/estimate.js';
export { createCrest, type CrestContext } from './crest/crest.js';
export { crestOptions, generationBoundaries, progressiveTemperature, type CrestOptions } from './crest/options.js';
export { inclusionRates, selectConfident, type CrestSelection } from './crest/selection.js';
export { DistributionAligner, temperedTarget } from './crest/alignment.js';
