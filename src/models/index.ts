/** Models: backbones (cnn-small, wrn-28-2, resnet-32) with a linear head, EMA copy, weight I/O. */
export type { Classifier, ForwardResult, NamedVariable } from './model.js';
export { NET_NAMES, createModel, isNetName, type ModelOptions, type NetName } from './create-model.js';
export { EMA_MAX_DECAY, EmaModel, emaDecay } from './ema.js';
export { exportWeights, importWeights, type WeightEntry, type WeightMap } from './io.js';
export { BN_EPS, BN_MOMENTUM, BatchNorm, Conv2d, LEAKY_SLOPE, LayerBuilder, Linear, conv2dSymmetric } from './layers.js';
export { ComposedClassifier, type Encoder } from './composed-classifier.js';
export { HEAD_NAMES, TDE, createHead, l2Rows, type Head, type HeadName, type HeadSpec } from './heads.js';
export { BbnClassifier, isBbnClassifier } from './bbn-classifier.js';
