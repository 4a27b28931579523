import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useCpuBackend, expectNoLeak } from '../helpers/tf-cpu.js';
import {
  PrototypeQueue,
  PseudoLabelHistogram,
  blendPseudoLabels,
  distributionAwareWeights,
  semanticAlignmentLoss,
  semanticPseudoLabels,
  resolveDistTemperature,
} from '../../src/algorithms/index.js';
import { cosineSimilarity } from '../../src/ops/cosine-similarity.js';

beforeAll(useCpuBackend);

describe('PrototypeQueue (feature_queue.py, balanced)', () => {
  it('keeps the newest L features per class (FIFO) and means them', () => {
    const q = new PrototypeQueue(3, 1, 2);
    q.push(Float32Array.from([1, 2, 3]), Int32Array.from([0, 0, 0]));
    expect(Array.from(q.features(0))).toEqual([2, 3]);
    expect(q.prototypes()[0]).toBeCloseTo(2.5);
    q.push(Float32Array.from([10, 4]), Int32Array.from([1, 0]));
    expect(Array.from(q.features(0))).toEqual([3, 4]);
    expect(q.prototypes()[0]).toBeCloseTo(3.5);
    expect(q.prototypes()[1]).toBeCloseTo(10);
    // A class never seen keeps a zero prototype.
    expect(q.prototypes()[2]).toBe(0);
    expect(q.count(2)).toBe(0);
  });

  it('restores its exact state', () => {
    const q = new PrototypeQueue(2, 2, 3);
    q.push(Float32Array.from([1, 2, 3, 4, 5, 6]), Int32Array.from([0, 1, 0]));
    const r = new PrototypeQueue(2, 2, 3);
    r.restore(q.state());
    expect(Array.from(r.prototypes())).toEqual(Array.from(q.prototypes()));
    expect(Array.from(r.features(0))).toEqual([1, 2, 5, 6]);
  });
});

describe('distribution-aware weights v_k = (m̂_k / max m̂)^(1/T_dist)', () => {
  it('matches hand values for T = 1.5 and T = 0.3', () => {
    const v = distributionAwareWeights([100, 50, 0, 25], 1.5);
    expect(v[0]).toBeCloseTo(1, 6);
    expect(v[1]).toBeCloseTo(0.629961, 5); // 0.5^(2/3)
    expect(v[2]).toBe(0); // never pseudo-labelled
    expect(v[3]).toBeCloseTo(0.39685, 5); // 0.25^(2/3)
    expect(distributionAwareWeights([100, 50], 0.3)[1]).toBeCloseTo(0.0992126, 6); // 0.5^(10/3)
  });

  it('is all zeros for an empty histogram', () => {
    expect(Array.from(distributionAwareWeights([0, 0, 0], 1.5))).toEqual([0, 0, 0]);
  });

  it('resolves T_dist auto as the DASO configs', () => {
    expect(resolveDistTemperature('auto', 10, 100, 100)).toBe(1.5);
    expect(resolveDistTemperature('auto', 10, 100, 1)).toBe(0.3);
    expect(resolveDistTemperature('auto', 100, 10, 10)).toBe(0.3);
    expect(resolveDistTemperature(0.7, 10, 100, 100)).toBe(0.7);
  });
});

describe('PseudoLabelHistogram (100-step window, replaced not averaged)', () => {
  it('publishes the window counts at (step+1) % window == 0', () => {
    const h = new PseudoLabelHistogram(3, 2);
    h.add(Int32Array.from([0, 0, 1]), 0, 10);
    expect(Array.from(h.counts())).toEqual([0, 0, 0]);
    h.add(Int32Array.from([1, 2]), 1, 10);
    expect(Array.from(h.counts())).toEqual([2, 2, 1]);
    h.add(Int32Array.from([2]), 2, 10);
    h.add(Int32Array.from([2]), 3, 10);
    expect(Array.from(h.counts())).toEqual([0, 0, 2]);
  });

  it('does not roll over on the last training step (official condition)', () => {
    const h = new PseudoLabelHistogram(2, 2);
    h.add(Int32Array.from([0]), 0, 2);
    h.add(Int32Array.from([1]), 1, 2);
    expect(Array.from(h.counts())).toEqual([0, 0]);
  });
});

describe('blendPseudoLabels', () => {
  it('weights by v of the LINEAR argmax class', () => {
    expectNoLeak(() => {
      const p = tf.tensor2d([[0.7, 0.2, 0.1]]);
      const q = tf.tensor2d([[0.1, 0.1, 0.8]]);
      const v = tf.tensor1d([0.5, 0, 0]);
      const blended = blendPseudoLabels(p, q, v);
      const got = Array.from(blended.dataSync());
      [0.4, 0.15, 0.45].forEach((x, i) => expect(got[i]).toBeCloseTo(x, 6));
      const fixed = blendPseudoLabels(p, q, 0.25);
      [0.55, 0.175, 0.275].forEach((x, i) => expect(fixed.dataSync()[i]).toBeCloseTo(x, 6));
      tf.dispose([p, q, v, blended, fixed]);
    });
  });

  it('leaves p unchanged for a class with v = 0 (the head when the tail is rare)', () => {
    const p = tf.tensor2d([[0.1, 0.9]]);
    const q = tf.tensor2d([[1, 0]]);
    const blended = blendPseudoLabels(p, q, tf.tensor1d([1, 0]));
    expect(Array.from(blended.dataSync())).toEqual([0.1, 0.9].map(Math.fround));
    tf.dispose([p, q, blended]);
  });
});

describe('semantic pseudo-labels and alignment loss', () => {
  it('cosine similarity follows torch (zero prototype gives 0)', () => {
    const a = tf.tensor2d([[1, 0], [0, 2]]);
    const b = tf.tensor2d([[1, 1], [0, 0]]);
    const s = cosineSimilarity(a, b).arraySync();
    expect(s[0][0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(s[0][1]).toBe(0);
    expect(s[1][0]).toBeCloseTo(Math.SQRT1_2, 6);
    tf.dispose([a, b]);
  });

  it('q = softmax(cos / T_proto)', () => {
    const f = tf.tensor2d([[1, 0]]);
    const protos = tf.tensor2d([[1, 0], [0, 1]]);
    const q = semanticPseudoLabels(f, protos, 0.5).dataSync();
    // cos = [1, 0] / 0.5 = [2, 0]; softmax = [e^2, 1] / (e^2 + 1)
    expect(q[0]).toBeCloseTo(Math.exp(2) / (Math.exp(2) + 1), 6);
    tf.dispose([f, protos]);
  });

  it('L_align = −Σ q·log softmax(strong) / B over all samples', () => {
    expectNoLeak(() => {
      const strong = tf.tensor2d([[0, 0], [2, 0]]);
      const q = tf.tensor2d([[0.5, 0.5], [1, 0]]);
      const loss = semanticAlignmentLoss(strong, q);
      // row0: log 2; row1: −log softmax(2,0)_0 = log(1 + e^-2)
      expect(loss.dataSync()[0]).toBeCloseTo((Math.log(2) + Math.log(1 + Math.exp(-2))) / 2, 6);
      tf.dispose([strong, q, loss]);
    });
  });
});
