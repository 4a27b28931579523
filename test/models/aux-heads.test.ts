import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../../src/models/create-model.js';
import { CLASSIFIER_HEAD, classHeads, predict } from '../../src/train/evaluate.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { useCpu } from './setup.js';

beforeAll(useCpu);

describe('auxiliary heads', () => {
  it('are named aux.<name>.*, leave the classifier\'s init unchanged, and predict reads the reported one', () => {
    const plain = createModel('cnn-small', { numClasses: 4, inputChannels: 1, seed: 5 });
    const model = createModel('cnn-small', { numClasses: 4, inputChannels: 1, seed: 5, auxHeads: [{ name: 'abc', outputs: 4, predictsClasses: true }, { name: 'rotation', outputs: 4 }], reportedHead: 'abc' });
    const names = model.params.map((p) => p.name);
    expect(names.slice(-4)).toEqual(['aux.abc.weight', 'aux.abc.bias', 'aux.rotation.weight', 'aux.rotation.bias']);
    // Same seed: every variable the plain model has is bit-identical (aux heads are drawn last).
    for (const p of plain.params) {
      const q = model.params.find((v) => v.name === p.name)!;
      expect(Array.from(q.variable.dataSync())).toEqual(Array.from(p.variable.dataSync()));
    }
    // A 4-way rotation head on 4 classes is still not a class head.
    expect(classHeads(model)).toEqual([CLASSIFIER_HEAD, 'abc']);

    const dataset = syntheticDataset({ size: 16, trainPerClass: 2, testPerClass: 3 });
    const before = tf.memory().numTensors;
    const out = predict(model, dataset.test, null, dataset, 5);
    expect(tf.memory().numTensors).toBe(before);
    // The reported predictions are the abc head's, computed by hand from the features.
    const expected = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(dataset.test.images, (v) => (v / 255 - dataset.mean[0]!) / dataset.std[0]!), [dataset.test.count, 16, 16, 1]);
      const f = model.forward(x, false).features;
      return { abc: Array.from(tf.argMax(model.auxLogits('abc', f), 1).dataSync()), classifier: Array.from(tf.argMax(model.head(f), 1).dataSync()) };
    });
    expect(Array.from(out.predictions)).toEqual(expected.abc);
    expect(Array.from(out.heads!.abc!)).toEqual(expected.abc);
    expect(Array.from(out.heads![CLASSIFIER_HEAD]!)).toEqual(expected.classifier);
    expect(Object.keys(out.heads!).sort()).toEqual(['abc', CLASSIFIER_HEAD]);
    expect(() => model.auxLogits('nope', tf.zeros([1, model.featureDim]) as tf.Tensor2D)).toThrow(/no auxiliary head 'nope'/);
    expect(() => createModel('cnn-small', { numClasses: 4, inputChannels: 1, seed: 5, reportedHead: 'abc' })).toThrow(/reported head 'abc'/);
    plain.dispose();
    model.dispose();
  });
});
