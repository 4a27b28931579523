import type { RunConfig } from '../config/run-config.js';
import { registry, type Algorithm, type AlgorithmState, type RunContext } from '../algorithms/index.js';
import { labeledLossEntry, type BoundLabeledLoss } from '../losses/index.js';
import { firstDecayStep } from '../train/lr-schedule.js';
import { lrScheduleOf } from '../train/training-state.js';

/** What the algorithm of a run is built from besides its config. */
export interface AlgorithmFacts {
  readonly numClasses: number;
  readonly featureDim: number;
  /** n_c of the labeled split. */
  readonly labeledClassCounts: readonly number[];
  readonly numUnlabeled: number;
}

/** The run's labeled-loss slot, bound to its class counts, DRW switch and seed. */
export function bindLabeledLoss(config: RunConfig, labeledClassCounts: readonly number[]): BoundLabeledLoss {
  const drwFrom = config.drw ? firstDecayStep(config.iterations, lrScheduleOf(config)) : null;
  return labeledLossEntry(config.labeledLoss).bind({ classCounts: labeledClassCounts, drwFrom, seed: config.seed });
}

/** The run context a method's `create` gets: the facts, the run length and the labeled-loss slot. */
export function runContext(config: RunConfig, facts: AlgorithmFacts, slot: BoundLabeledLoss = bindLabeledLoss(config, facts.labeledClassCounts)): RunContext {
  return { ...facts, iterations: config.iterations, labeledLoss: slot.loss, seed: config.seed };
}

/** Checkpoint key prefix of the labeled-loss slot's state (seesaw's running counts). */
const SLOT_PREFIX = 'labeled-loss/';

/**
 * The run's algorithm: its base learner with its add-ons, from the registry, whose checkpointed
 * state also carries the labeled-loss slot's.
 */
export function buildAlgorithm(config: RunConfig, facts: AlgorithmFacts): Algorithm {
  const slot = bindLabeledLoss(config, facts.labeledClassCounts);
  const algorithm = registry.createAlgorithm(config, runContext(config, facts, slot));
  return {
    name: algorithm.name,
    usesUnlabeled: algorithm.usesUnlabeled,
    trains: algorithm.trains,
    runHooks: algorithm.runHooks,
    prepare: (batch, ctx) => algorithm.prepare(batch, ctx),
    loss: (batch, ctx) => algorithm.loss(batch, ctx),
    afterStep: (pl, ctx) => algorithm.afterStep(pl, ctx),
    ...(algorithm.priorEstimates ? { priorEstimates: () => algorithm.priorEstimates!() } : {}),
    dispose: () => algorithm.dispose(),
    state(): AlgorithmState {
      const own = algorithm.state();
      const arrays: AlgorithmState['arrays'] = { ...own.arrays };
      for (const [k, v] of Object.entries(slot.state())) arrays[`${SLOT_PREFIX}${k}`] = v;
      return { json: own.json, arrays };
    },
    restore(state: AlgorithmState): void {
      const own: AlgorithmState['arrays'] = {};
      const mine: Record<string, Float32Array | Int32Array> = {};
      for (const [k, v] of Object.entries(state.arrays)) {
        if (k.startsWith(SLOT_PREFIX)) mine[k.slice(SLOT_PREFIX.length)] = v;
        else own[k] = v;
      }
      algorithm.restore({ json: state.json, arrays: own });
      if (Object.keys(slot.state()).length > 0) slot.restore(mine);
    },
  };
}
