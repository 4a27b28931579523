/** `ssl bench`: our trainer's step per backend, interleaved with the same step in PyTorch. */
export { BENCH_DEFAULTS, SLOW_BACKENDS, runBench, type BenchBackend, type BenchDeps, type BenchOptions } from './run-bench.js';
export { BENCH_STEPS, createOurRunner, imagesPerStep, stepUsesUnlabeled, memorySnapshot, type BenchStep, type MemorySnapshot, type OurRunner, type OurRunnerOptions } from './our-runner.js';
export { interleavedOrder, median, runInterleaved, type BenchRunner, type RoundFailure, type RoundRecord, type RoundResult, type RunnerKind } from './runner.js';
export { bestOf, formatMemory, formatReport, formatRound, roundRatios, speedRatio, summarizeRecords, type BenchReport, type OurSummary, type PyTorchSummary, type RunnerSummary } from './report.js';
export {
  DEFAULT_PYTHONS,
  PYTORCH_MALLOC,
  referenceEnv,
  TORCH_FORMATS,
  findTorchPython,
  parseTorchScriptLine,
  startTorchReference,
  torchScriptPath,
  type PythonProbe,
  type PyTorchMalloc,
  type TorchFormat,
  type TorchReference,
  type TorchReferenceOptions,
  type TorchScriptEvent,
} from './torch-reference.js';
export { FIXMATCH_BATCH, randomSslBatch, type BenchBatchShape } from './random-batch.js';
