import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { LayerBuilder } from '../../src/models/layers.js';
import { TDE, createHead, type HeadSpec } from '../../src/models/heads.js';
import { createModel } from '../../src/models/create-model.js';
import { isBbnClassifier } from '../../src/models/bbn-classifier.js';
import { Rng } from '../../src/util/rng.js';
import { useCpu } from './setup.js';

beforeAll(useCpu);

const D = 4;
const C = 3;
const X = [
  [1, 2, -1, 0.5],
  [0, -1, 3, 1],
];

function build(spec: HeadSpec) {
  const b = new LayerBuilder(new Rng(3));
  const head = createHead(b, 'classifier', D, C, spec, 'xavier');
  const vars = Object.fromEntries([...b.params, ...b.buffers].map((v) => [v.name, v.variable]));
  return { head, vars, dispose: () => [...b.params, ...b.buffers].forEach((v) => v.variable.dispose()) };
}

const norm = (v: number[]): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const column = (w: Float32Array, c: number, rows: number): number[] => Array.from({ length: rows }, (_, i) => w[i * C + c]);
const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i], 0);

describe('classifier heads', () => {
  it('cosine: logits are cos(x, w_c), in [−1, 1], with unit-norm initial columns', () => {
    const { head, vars, dispose } = build({ kind: 'cosine' });
    const w = vars['classifier.weight'].dataSync() as Float32Array;
    for (let c = 0; c < C; c++) expect(norm(column(w, c, D))).toBeCloseTo(1, 5);
    const z = tf.tidy(() => head.apply(tf.tensor2d(X)).arraySync() as number[][]);
    X.forEach((x, i) => {
      for (let c = 0; c < C; c++) expect(z[i][c]).toBeCloseTo(dot(x, column(w, c, D)) / norm(x), 5);
    });
    expect(vars['classifier.bias']).toBeUndefined();
    dispose();
  });

  it('linear with biasInit starts every bias at that value (class-balanced sigmoid: −log(C−1))', () => {
    const { vars, dispose } = build({ kind: 'linear', biasInit: -Math.log(C - 1) });
    Array.from(vars['classifier.bias'].dataSync()).forEach((b) => expect(b).toBeCloseTo(-Math.log(2), 6));
    dispose();
  });

  it('lws: logits are scales ⊙ (xW + b), scales start at 1', () => {
    const { head, vars, dispose } = build({ kind: 'lws' });
    vars['classifier.scales'].assign(tf.tensor1d([2, 0.5, -1]));
    const w = vars['classifier.weight'].dataSync() as Float32Array;
    const b = vars['classifier.bias'].dataSync() as Float32Array;
    const z = tf.tidy(() => head.apply(tf.tensor2d(X)).arraySync() as number[][]);
    [2, 0.5, -1].forEach((s, c) => expect(z[0][c]).toBeCloseTo(s * (dot(X[0], column(w, c, D)) + b[c]), 5));
    dispose();
  });

  it('tde: (τ/K)·Σ_k x̂_k·w_k/(‖w_k‖+γ) in training; inference removes α·cos(x̂_k, d̂_k)·d̂_k; observe keeps μ·d̄ + mean(x)', () => {
    const alpha = 1.5;
    const { head, vars, dispose } = build({ kind: 'tde', alpha });
    const w = vars['classifier.weight'].dataSync() as Float32Array;
    const half = D / TDE.heads;
    const groupsOf = (v: number[]): number[][] => [v.slice(0, half), v.slice(half)];
    const unit = (v: number[]): number[] => v.map((x) => x / norm(v));
    const trainRef = (x: number[], c: number, embed?: number[]): number =>
      groupsOf(x).reduce((s, xk, k) => {
        const wk = column(w, c, D).slice(k * half, (k + 1) * half);
        const wn = wk.map((v) => v / (norm(wk) + TDE.gamma));
        let nx = unit(xk);
        if (embed) {
          const ck = unit(groupsOf(embed)[k]);
          const cos = dot(nx, ck);
          nx = nx.map((v, i) => v - alpha * cos * ck[i]);
        }
        return s + (TDE.tau / TDE.heads) * dot(nx, wn);
      }, 0);
    const z = tf.tidy(() => head.apply(tf.tensor2d(X)).arraySync() as number[][]);
    X.forEach((x, i) => {
      for (let c = 0; c < C; c++) expect(z[i][c]).toBeCloseTo(trainRef(x, c), 4);
    });
    tf.tidy(() => head.observe?.(tf.tensor2d(X)));
    tf.tidy(() => head.observe?.(tf.tensor2d(X)));
    const mean = [0, 1, 2, 3].map((d) => (X[0][d] + X[1][d]) / 2);
    const embed = mean.map((m) => TDE.momentum * m + m);
    Array.from(vars['classifier.embed_mean'].dataSync()).forEach((v, d) => expect(v).toBeCloseTo(embed[d], 5));
    const zi = tf.tidy(() => head.infer(tf.tensor2d(X)).arraySync() as number[][]);
    X.forEach((x, i) => {
      for (let c = 0; c < C; c++) expect(zi[i][c]).toBeCloseTo(trainRef(x, c, embed), 4);
    });
    expect(zi[0][0]).not.toBeCloseTo(z[0][0], 3);
    dispose();
  });

  it('a model built with a head names the head variables, and evaluation uses the inference form', () => {
    const model = createModel('cnn-small', { numClasses: C, inputChannels: 1, seed: 0, head: { kind: 'tde', alpha: 1 } });
    expect([...model.headVariables].sort()).toEqual(['classifier.classifier.embed_mean', 'classifier.classifier.weight']);
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      model.forward(x, true); // moves the moving-average feature off zero
      const { features, logits } = model.forward(x, false);
      const expected = model.head(features);
      // eval ≠ the training form once d̄ ≠ 0: the inference path is the one evaluation sees.
      expect(tf.max(tf.abs(tf.sub(logits, expected))).dataSync()[0]).toBeGreaterThan(1e-4);
    });
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });
});

describe('BBN model', () => {
  it('shares the trunk, copies the last block under rb., and infers with α = 0.5 (forwardMixed on the same image)', () => {
    const plain = createModel('cnn-small', { numClasses: C, inputChannels: 1, seed: 0 });
    const bbn = createModel('cnn-small', { numClasses: C, inputChannels: 1, seed: 0, bbn: true });
    expect(isBbnClassifier(bbn)).toBe(true);
    expect(isBbnClassifier(plain)).toBe(false);
    const names = bbn.params.map((p) => p.name);
    expect(names.filter((n) => n.startsWith('rb.'))).toEqual(['rb.encoder.conv5.weight', 'rb.encoder.bn5.weight', 'rb.encoder.bn5.bias']);
    expect(names.filter((n) => !n.startsWith('rb.') && !n.startsWith('classifier'))).toEqual(plain.params.map((p) => p.name).filter((n) => !n.startsWith('classifier')));
    expect(bbn.featureDim).toBe(2 * plain.featureDim);
    const x = tf.randomNormal([3, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
    tf.tidy(() => {
      if (!isBbnClassifier(bbn)) return;
      const inferred = bbn.forward(x, false).logits.arraySync() as number[][];
      const mixed = bbn.forwardMixed(x, x, 0.5, false).arraySync() as number[][];
      inferred.forEach((row, i) => row.forEach((v, c) => expect(v).toBeCloseTo(mixed[i][c], 5)));
      // α = 1 ignores the re-balancing branch's input entirely.
      const a = bbn.forwardMixed(x, tf.zerosLike(x), 1, false).arraySync() as number[][];
      const b = bbn.forwardMixed(x, tf.onesLike(x), 1, false).arraySync() as number[][];
      a.forEach((row, i) => row.forEach((v, c) => expect(v).toBeCloseTo(b[i][c], 5)));
    });
    x.dispose();
    plain.dispose();
    bbn.dispose();
  });
});
