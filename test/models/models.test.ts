import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { NET_NAMES, createModel, type Classifier } from '../../src/models/index.js';
import { fixedInput, useCpu } from './setup.js';

beforeAll(useCpu);

const count = (vars: Classifier['params']): number => vars.reduce((s, v) => s + v.variable.size, 0);

describe('createModel', () => {
  it.each([
    // Exact counts of the PyTorch definitions (torch-reference.py `count`; WRN = ytaek-oh/daso SemiModel).
    ['wrn-28-2', 10, 3, 1_467_610, 80, 3616, 50],
    ['wrn-28-2', 100, 3, 1_479_220, 80, 3616, 50],
    ['cnn-small', 10, 1, 140_458, 17, 640, 10],
    ['cnn-small', 10, 3, 141_034, 17, 640, 10],
    // LDAM-DRW ResNet-32: 0.46M as its docstring says.
    ['resnet-32', 10, 3, 464_154, 95, 2272, 62],
  ] as const)('%s C=%i in=%i has %i parameters', (net, numClasses, inputChannels, nParams, nParamVars, nBuf, nBufVars) => {
    const m = createModel(net, { numClasses, inputChannels, seed: 0 });
    expect(count(m.params)).toBe(nParams);
    expect(m.params.length).toBe(nParamVars);
    expect(count(m.buffers)).toBe(nBuf);
    expect(m.buffers.length).toBe(nBufVars);
    expect(m.featureDim).toBe(net === 'resnet-32' ? 64 : 128);
    expect(m.numClasses).toBe(numClasses);
    expect(m.net).toBe(net);
    expect(m.params.every((p) => p.variable.trainable)).toBe(true);
    expect(m.buffers.every((b) => !b.variable.trainable)).toBe(true);
    m.dispose();
  });

  it('names WRN variables with the official state_dict keys in parameters() order', () => {
    const m = createModel('wrn-28-2', { numClasses: 10, inputChannels: 3, seed: 0 });
    expect(m.params.slice(0, 9).map((p) => p.name)).toEqual([
      'encoder.init_conv.weight',
      'encoder.unit1.0.pre_act.0.weight',
      'encoder.unit1.0.pre_act.0.bias',
      'encoder.unit1.0.identity.weight',
      'encoder.unit1.0.layer.0.weight',
      'encoder.unit1.0.layer.1.weight',
      'encoder.unit1.0.layer.1.bias',
      'encoder.unit1.0.layer.3.weight',
      'encoder.unit1.1.layer.0.weight',
    ]);
    const byName = new Map(m.params.map((p) => [p.name, p.variable.shape]));
    expect(byName.get('encoder.unit2.0.identity.weight')).toEqual([1, 1, 32, 64]);
    expect(byName.get('encoder.unit2.0.layer.2.weight')).toEqual([3, 3, 32, 64]);
    expect(byName.has('encoder.unit2.1.identity.weight')).toBe(false);
    expect(m.params.slice(-2).map((p) => [p.name, p.variable.shape])).toEqual([
      ['classifier.classifier.weight', [128, 10]],
      ['classifier.classifier.bias', [10]],
    ]);
    expect(m.buffers.slice(-2).map((b) => b.name)).toEqual(['encoder.unit4.0.running_mean', 'encoder.unit4.0.running_var']);
    m.dispose();
  });

  it('throws a UserError listing the valid nets on an unknown name', () => {
    expect(() => createModel('resnet-50', { numClasses: 10, inputChannels: 3, seed: 0 })).toThrow(UserError);
    expect(() => createModel('resnet-50', { numClasses: 10, inputChannels: 3, seed: 0 })).toThrow(NET_NAMES.join(', '));
    expect(() => createModel('cnn-small', { numClasses: 0, inputChannels: 3, seed: 0 })).toThrow(/numClasses/);
  });

  it('same seed gives the same weights; another seed different ones', () => {
    const a = createModel('cnn-small', { numClasses: 10, inputChannels: 1, seed: 42 });
    const b = createModel('cnn-small', { numClasses: 10, inputChannels: 1, seed: 42 });
    const c = createModel('cnn-small', { numClasses: 10, inputChannels: 1, seed: 43 });
    a.params.forEach((p, i) => {
      expect(Array.from(p.variable.dataSync())).toEqual(Array.from(b.params[i].variable.dataSync()));
    });
    const w = (m: Classifier): number[] => Array.from(m.params[0].variable.dataSync());
    expect(w(a)).not.toEqual(w(c));
    // BN gamma 1, beta 0, running mean 0, var 1; head bias 0.
    expect(Array.from(a.params[1].variable.dataSync()).every((v) => v === 1)).toBe(true);
    expect(Array.from(a.params[2].variable.dataSync()).every((v) => v === 0)).toBe(true);
    expect(Array.from(a.params[16].variable.dataSync()).every((v) => v === 0)).toBe(true);
    expect(Array.from(a.buffers[1].variable.dataSync()).every((v) => v === 1)).toBe(true);
    [a, b, c].forEach((m) => m.dispose());
  });
});

describe('forward', () => {
  it.each([
    ['cnn-small', 28, 1],
    ['cnn-small', 32, 3],
    ['wrn-28-2', 32, 3],
    ['wrn-28-2', 28, 1],
    ['resnet-32', 32, 3],
  ] as const)('%s on %i px with %i channels gives features [B,D] and logits [B,C], train and eval', (net, hw, c) => {
    const m = createModel(net, { numClasses: 7, inputChannels: c, seed: 1 });
    const x = fixedInput([1, hw, hw, c]);
    const before = tf.memory().numTensors;
    for (const training of [false, true]) {
      const { features, logits } = m.forward(x, training);
      expect(features.shape).toEqual([1, m.featureDim]);
      expect(logits.shape).toEqual([1, 7]);
      const head = m.head(features);
      expect(Array.from(head.dataSync())).toEqual(Array.from(logits.dataSync()));
      tf.dispose([features, logits, head]);
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    m.dispose();
  });

  it('evaluation mode does not touch the running statistics', () => {
    const m = createModel('cnn-small', { numClasses: 3, inputChannels: 1, seed: 1 });
    const x = fixedInput([2, 8, 8, 1]);
    const r = m.forward(x, false);
    for (const b of m.buffers) {
      const init = b.name.endsWith('running_mean') ? 0 : 1;
      expect(Array.from(b.variable.dataSync()).every((v) => v === init), b.name).toBe(true);
    }
    tf.dispose([x, r.features, r.logits]);
    m.dispose();
  });
});

/** Gradient of sum(logits²) + sum(features) w.r.t. every parameter, with running stats updated. */
function gradCheck(net: 'cnn-small' | 'wrn-28-2' | 'resnet-32', hw: number, c: number): void {
  const m = createModel(net, { numClasses: 5, inputChannels: c, seed: 3 });
  const x = fixedInput([2, hw, hw, c]);
  const bufBefore = m.buffers.map((b) => Array.from(b.variable.dataSync()));
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(
    () => {
      const { features, logits } = m.forward(x, true);
      return tf.add(tf.sum(tf.square(logits)), tf.sum(features)) as tf.Scalar;
    },
    m.params.map((p) => p.variable),
  );
  for (const p of m.params) {
    const g = grads[p.variable.name];
    expect(g, p.name).toBeDefined();
    expect(g.shape, p.name).toEqual(p.variable.shape);
    const norm = tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0]);
    expect(Number.isFinite(norm) && norm > 0, `${p.name} grad |g|=${norm}`).toBe(true);
  }
  expect(Number.isFinite(value.dataSync()[0])).toBe(true);
  // Every running statistic moved (the input has non-zero mean and non-unit variance everywhere).
  m.buffers.forEach((b, i) => {
    expect(Array.from(b.variable.dataSync()), b.name).not.toEqual(bufBefore[i]);
  });
  tf.dispose([value, ...Object.values(grads)]);
  expect(tf.memory().numTensors).toBe(before);
  x.dispose();
  m.dispose();
}

describe('training', () => {
  it('cnn-small: gradients reach every parameter and BN running stats move inside variableGrads', () => gradCheck('cnn-small', 8, 1));
  it('wrn-28-2: gradients reach every parameter and BN running stats move inside variableGrads', () => gradCheck('wrn-28-2', 4, 3));
  it('resnet-32: gradients reach every parameter and BN running stats move inside variableGrads', () => gradCheck('resnet-32', 4, 3));

  it('tensor count stays flat over repeated forward/backward', () => {
    const m = createModel('cnn-small', { numClasses: 4, inputChannels: 1, seed: 5 });
    const x = fixedInput([2, 4, 4, 1]);
    const vars = m.params.map((p) => p.variable);
    const step = (): void => {
      const { value, grads } = tf.variableGrads(() => tf.mean(m.forward(x, true).logits) as tf.Scalar, vars);
      tf.dispose([value, ...Object.values(grads)]);
      const r = m.forward(x, false);
      tf.dispose([r.features, r.logits]);
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    m.dispose();
    // x and every variable freed.
    expect(tf.memory().numTensors).toBe(before - 1 - m.params.length - m.buffers.length);
  });
});
