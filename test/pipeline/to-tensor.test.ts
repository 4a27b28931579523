/** uint8 -> normalised float tensor, and plain evaluation batches. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { iterateEvalBatches, toInputTensor } from '../../src/pipeline/index.js';
import { constantSet } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('toInputTensor', () => {
  it('computes (x/255 − mean_c)/std_c per channel, NHWC, and leaks nothing', () => {
    const before = tf.memory().numTensors;
    // One 1x2 image with 2 channels: pixels (255, 0) and (51, 255).
    const x = toInputTensor(Uint8Array.from([255, 0, 51, 255]), 1, 1, 2, 2, [0.5, 0.25], [0.5, 0.25]);
    expect(x.shape).toEqual([1, 1, 2, 2]);
    expect(x.dtype).toBe('float32');
    const v = Array.from(x.dataSync());
    // (1 − 0.5)/0.5 = 1; (0 − 0.25)/0.25 = −1; (0.2 − 0.5)/0.5 = −0.6; (1 − 0.25)/0.25 = 3.
    expect(v[0]).toBe(1);
    expect(v[1]).toBe(-1);
    expect(v[2]).toBeCloseTo(-0.6, 6);
    expect(v[3]).toBe(3);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a mean/std of the wrong length', () => {
    expect(() => toInputTensor(new Uint8Array(4), 1, 2, 2, 1, [0.5, 0.5], [1, 1])).toThrow(/mean\/std/);
  });
});

describe('iterateEvalBatches', () => {
  const set = constantSet(5, 2, 2, 1);

  it('walks the whole set in order when indices is null, last batch partial', () => {
    const batches = [...iterateEvalBatches(set, null, 2)];
    expect(batches.map((b) => b.labels.length)).toEqual([2, 2, 1]);
    expect(batches.map((b) => Array.from(b.indices))).toEqual([[0, 1], [2, 3], [4]]);
    expect(Array.from(batches[1].images)).toEqual([2, 2, 2, 2, 3, 3, 3, 3]);
    expect(Array.from(batches[2].labels)).toEqual([set.labels[4]]);
  });

  it('gathers the given indices', () => {
    const [b] = [...iterateEvalBatches(set, Int32Array.from([4, 0]), 10)];
    expect(Array.from(b.images)).toEqual([4, 4, 4, 4, 0, 0, 0, 0]);
    expect(Array.from(b.labels)).toEqual([set.labels[4], set.labels[0]]);
  });
});
