import * as tf from '@tensorflow/tfjs-core';
import { emaUpdate } from '../ops/ema.js';
import type { Classifier } from './model.js';

/** Upper bound of the EMA decay (ytaek-oh/daso `MODEL.EMA_DECAY`). */
export const EMA_MAX_DECAY = 0.999;

/**
 * EMA decay at 0-based step t with warm-up, as ytaek-oh/daso `lib/models/ema_model.py`:
 * min(1 − 1/(t+1), maxDecay). Step 0 gives 0, i.e. the EMA becomes a copy of the student.
 */
export function emaDecay(step: number, maxDecay: number = EMA_MAX_DECAY): number {
  if (!Number.isInteger(step) || step < 0) throw new Error(`emaDecay: step must be an integer ≥ 0, got ${step}`);
  return Math.min(1 - 1 / (step + 1), maxDecay);
}

/**
 * An exponential moving average of a student classifier: a second model of the same
 * architecture whose parameters AND BatchNorm running statistics follow
 * ema = d·ema + (1 − d)·student after every optimiser step. Evaluation uses `model`.
 * The official `EMA_WEIGHT_DECAY` is 0 in all DASO configs, so no EMA weight decay is applied.
 * Owns `model`; `dispose()` frees it.
 */
export class EmaModel {
  /** The averaged model: call `model.forward(x, false)` to evaluate. */
  readonly model: Classifier;
  private readonly maxDecay: number;

  /**
   * @param student the model to follow; its current values are copied (PyTorch's deepcopy).
   * @param build creates a new model of the same architecture (its init values are overwritten;
   *   e.g. `() => createModel(net, opts)`). The EMA takes ownership of the result.
   */
  constructor(student: Classifier, build: () => Classifier, maxDecay: number = EMA_MAX_DECAY) {
    this.model = build();
    this.maxDecay = maxDecay;
    try {
      this.checkPaired(student);
    } catch (err) {
      this.model.dispose();
      throw err;
    }
    // Copy through host memory: `assign(src)` would share the student's storage, which a backend
    // with in-place fused updates (the torch engine's EMA/SGD kernels) must never see.
    tf.tidy(() => {
      for (const [ema, src] of this.pairs(student)) ema.assign(tf.tensor(src.dataSync(), src.shape, 'float32'));
    });
  }

  /**
   * Blends the student in with decay min(1 − 1/(step+1), maxDecay); step is the 0-based index of
   * the optimiser step just taken. `only` limits the blend to the named variables. Returns the decay used.
   */
  update(student: Classifier, step: number, only?: ReadonlySet<string>): number {
    this.checkPaired(student);
    const decay = emaDecay(step, this.maxDecay);
    // `only`: the variables that can change (a frozen backbone's stay bit-exact: d·x + (1 − d)·x ≠ x in float32).
    const pairs = this.pairs(student).filter((_, i) => !only || only.has(this.names[i]));
    emaUpdate(
      pairs.map(([e]) => e),
      pairs.map(([, s]) => s),
      decay,
    );
    return decay;
  }

  dispose(): void {
    this.model.dispose();
  }

  private get names(): string[] {
    return [...this.model.params, ...this.model.buffers].map((v) => v.name);
  }

  private pairs(student: Classifier): Array<[tf.Variable, tf.Variable]> {
    const own = [...this.model.params, ...this.model.buffers];
    const other = [...student.params, ...student.buffers];
    return own.map((e, i) => [e.variable, other[i].variable]);
  }

  private checkPaired(student: Classifier): void {
    const own = [...this.model.params, ...this.model.buffers];
    const other = [...student.params, ...student.buffers];
    if (own.length !== other.length) {
      throw new Error(`EmaModel: student has ${other.length} variables, EMA model ${own.length}`);
    }
    own.forEach((e, i) => {
      const s = other[i];
      if (e.name !== s.name || !sameShape(e.variable.shape, s.variable.shape)) {
        throw new Error(`EmaModel: variable ${i} differs: EMA ${e.name} [${e.variable.shape}] vs student ${s.name} [${s.variable.shape}]`);
      }
    });
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
