import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { createModel, exportWeights, importWeights } from '../../src/models/index.js';
import { fixedInput, useCpu } from './setup.js';

beforeAll(useCpu);

describe('exportWeights / importWeights', () => {
  it('round-trips parameters and buffers: the copy computes the same outputs', () => {
    const a = createModel('cnn-small', { numClasses: 4, inputChannels: 1, seed: 1 });
    const b = createModel('cnn-small', { numClasses: 4, inputChannels: 1, seed: 2 });
    const x = fixedInput([2, 8, 8, 1]);
    tf.dispose(Object.values(a.forward(x, true))); // move a's running stats off their init
    const w = exportWeights(a);
    expect(Object.keys(w)).toHaveLength(a.params.length + a.buffers.length);
    expect(w['encoder.conv1.weight'].shape).toEqual([3, 3, 1, 32]);
    expect(w['encoder.bn1.running_var'].data).toHaveLength(32);
    const before = tf.memory().numTensors;
    importWeights(b, w);
    expect(tf.memory().numTensors).toBe(before);
    const ya = a.forward(x, false);
    const yb = b.forward(x, false);
    expect(Array.from(yb.logits.dataSync())).toEqual(Array.from(ya.logits.dataSync()));
    // The export is a copy: changing it does not change the model.
    w['encoder.conv1.weight'].data[0] += 1;
    expect(a.params[0].variable.dataSync()[0]).not.toBe(w['encoder.conv1.weight'].data[0]);
    tf.dispose([x, ya.features, ya.logits, yb.features, yb.logits]);
    a.dispose();
    b.dispose();
  });

  it('rejects a map for another net, number of classes, a missing key or truncated data, changing nothing', () => {
    const m = createModel('cnn-small', { numClasses: 4, inputChannels: 1, seed: 1 });
    const other = createModel('cnn-small', { numClasses: 5, inputChannels: 1, seed: 1 });
    const first = Array.from(m.params[0].variable.dataSync());
    expect(() => importWeights(m, exportWeights(other))).toThrow(/classifier\.classifier\.weight.*\[128,5\].*\[128,4\]/);
    const w = exportWeights(m);
    const { ['encoder.bn3.bias']: _dropped, ...missing } = w;
    expect(() => importWeights(m, missing)).toThrow(/missing 'encoder\.bn3\.bias'/);
    expect(() => importWeights(m, { ...w, extra: { shape: [1], data: new Float32Array(1) } })).toThrow(/extra/);
    const truncated = { ...w, 'encoder.bn1.weight': { shape: [32], data: new Float32Array(31) } };
    expect(() => importWeights(m, truncated)).toThrow(UserError);
    expect(Array.from(m.params[0].variable.dataSync())).toEqual(first);
    m.dispose();
    other.dispose();
  });
});
