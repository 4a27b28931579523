/** Training and evaluation batches: samplers -> augmentation workers -> uint8 batches -> tensors. */
export {
  AUG_STREAM,
  View,
  createSslBatchStream,
  unlabeledViewId,
  type SslAugmentOptions,
  type SslBatch,
  type SslBatchSource,
  type SslBatchStreamOptions,
  type SslBatchStreamStats,
} from './ssl-batch-stream.js';
export { iterateEvalBatches, type EvalBatch } from './eval-batches.js';
export { toInputTensor } from './to-tensor.js';
export { createAugmentPool, defaultWorkerCount, type AugmentPool } from './worker-pool.js';
export { runAugmentTask, type AugmentMode, type AugmentTask } from './augment-task.js';
