import type { RunConfig } from '../config/run-config.js';
import { registry, type Algorithm, type RunContext } from '../algorithms/index.js';
import { labeledLossEntry } from '../losses/index.js';

/** What the algorithm of a run is built from besides its config. */
export interface AlgorithmFacts {
  readonly numClasses: number;
  readonly featureDim: number;
  /** n_c of the labeled split. */
  readonly labeledClassCounts: readonly number[];
  readonly numUnlabeled: number;
}

/** The run context a method's `create` gets: the facts, the run length and the labeled-loss slot. */
export function runContext(config: RunConfig, facts: AlgorithmFacts): RunContext {
  return {
    ...facts,
    iterations: config.iterations,
    labeledLoss: labeledLossEntry(config.labeledLoss).bind(facts.labeledClassCounts),
  };
}

/** The run's algorithm: its base learner with its add-ons, from the registry. */
export function buildAlgorithm(config: RunConfig, facts: AlgorithmFacts): Algorithm {
  return registry.createAlgorithm(config, runContext(config, facts));
}
