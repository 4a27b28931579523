import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel, exportWeights, importWeights, type Classifier, type WeightMap } from '../../src/models/index.js';
import { Rng } from '../../src/util/rng.js';
import { fixedInput, useCpu } from './setup.js';

/**
 * Parity against PyTorch: the same weights in our nets and in torch-reference.py (WRN as
 * ytaek-oh/daso, ResNet-32 as LDAM-DRW) must give the same parameter names and order, features,
 * logits, BN running statistics after a training forward, and parameter gradients.
 * Runs only where /usr/bin/python3 (or $SSL_TORCH_PYTHON) has torch; otherwise skipped with a message.
 */
const python = process.env.SSL_TORCH_PYTHON ?? '/usr/bin/python3';
const findTorch = "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)";
const hasTorch = spawnSync(python, ['-c', findTorch], { stdio: 'ignore' }).status === 0;
const script = join(dirname(fileURLToPath(import.meta.url)), 'torch-reference.py');
if (!hasTorch) console.warn(`torch-parity: skipped, ${python} has no torch (set SSL_TORCH_PYTHON to a python with torch)`);

interface TorchOut {
  params: number;
  names: string[];
  bufferNames: string[];
  evalFeatures: number[];
  evalLogits: number[];
  trainFeatures: number[];
  trainLogits: number[];
  loss: number;
  buffers: Record<string, number[]>;
  /** base64 little-endian float32, tfjs layout. */
  grads: Record<string, string>;
}

const CASES = [
  // net, input channels, image side, batch
  ['cnn-small', 1, 8, 3],
  ['wrn-28-2', 3, 8, 2],
  ['resnet-32', 3, 8, 2],
] as const;
const NUM_CLASSES = 6;

const encode = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const decode = (b64: string): number[] => {
  const buf = Buffer.from(b64, 'base64');
  return Array.from(new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)));
};

/** Init weights with non-trivial BN parameters and statistics, so eval mode is a real test. */
function perturb(weights: WeightMap, seed: number): WeightMap {
  const rng = new Rng(seed);
  const out: WeightMap = {};
  for (const [name, w] of Object.entries(weights)) {
    const data = Float32Array.from(w.data);
    for (let i = 0; i < data.length; i++) {
      if (name.endsWith('running_var')) data[i] = 0.5 + rng.float();
      else if (name.endsWith('running_mean') || name.endsWith('bias')) data[i] = 0.1 * rng.normal();
      else if (w.shape.length === 1) data[i] = 1 + 0.2 * rng.normal();
    }
    out[name] = { shape: w.shape, data };
  }
  return out;
}

function closeTo(actual: ArrayLike<number>, expected: number[], tol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i])));
  }
  expect(worst, `${what}: worst relative error`).toBeLessThan(tol);
}

describe.skipIf(!hasTorch)('parity with PyTorch', () => {
  const models: Classifier[] = [];
  const inputs: tf.Tensor4D[] = [];
  let refs: TorchOut[] = [];
  let dir = '';

  // One python run for all nets (starting torch costs seconds).
  beforeAll(async () => {
    await useCpu();
    dir = mkdtempSync(join(tmpdir(), 'ssl-parity-'));
    const specs = CASES.map(([net, c, hw, batch], i) => {
      const m = createModel(net, { numClasses: NUM_CLASSES, inputChannels: c, seed: 11 });
      importWeights(m, perturb(exportWeights(m), 5 + i));
      const x = fixedInput([batch, hw, hw, c], i);
      models.push(m);
      inputs.push(x);
      const weights = Object.fromEntries(Object.entries(exportWeights(m)).map(([k, w]) => [k, { shape: w.shape, data: encode(w.data) }]));
      return { net, numClasses: NUM_CLASSES, inputChannels: c, weights, input: { shape: x.shape, data: encode(x.dataSync() as Float32Array) } };
    });
    const inFile = join(dir, 'in.json');
    const outFile = join(dir, 'out.json');
    writeFileSync(inFile, JSON.stringify(specs));
    const run = spawnSync(python, [script, 'forward', inFile, outFile], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`torch-reference.py failed: ${run.stderr}`);
    refs = JSON.parse(readFileSync(outFile, 'utf8')) as TorchOut[];
  });

  afterAll(() => {
    models.forEach((m) => m.dispose());
    tf.dispose(inputs);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(CASES.map((c, i) => [...c, i] as const))(
    '%s (%i channels, %i px, batch %i): same names, features, logits, running stats and gradients',
    (_net, _c, _hw, _batch, i) => {
      const m = models[i];
      const x = inputs[i];
      const out = refs[i];
      expect(m.params.map((p) => p.name)).toEqual(out.names);
      expect(m.buffers.map((b) => b.name)).toEqual(out.bufferNames);
      expect(m.params.reduce((s, p) => s + p.variable.size, 0)).toBe(out.params);

      const ev = m.forward(x, false);
      closeTo(ev.features.dataSync(), out.evalFeatures, 1e-4, 'eval features');
      closeTo(ev.logits.dataSync(), out.evalLogits, 1e-4, 'eval logits');
      let tr: { features: tf.Tensor2D; logits: tf.Tensor2D } | undefined;
      const { value, grads } = tf.variableGrads(
        () => {
          const r = m.forward(x, true);
          tr = { features: tf.keep(r.features), logits: tf.keep(r.logits) };
          return tf.add(tf.sum(tf.square(r.logits)), tf.sum(r.features)) as tf.Scalar;
        },
        m.params.map((p) => p.variable),
      );
      if (tr === undefined) throw new Error('no training forward');
      closeTo(tr.features.dataSync(), out.trainFeatures, 1e-3, 'train features');
      closeTo(tr.logits.dataSync(), out.trainLogits, 1e-3, 'train logits');
      closeTo(value.dataSync(), [out.loss], 1e-3, 'loss');
      for (const b of m.buffers) closeTo(b.variable.dataSync(), out.buffers[b.name], 1e-5, b.name);
      for (const p of m.params) closeTo(grads[p.variable.name].dataSync(), decode(out.grads[p.name]), 2e-3, `grad ${p.name}`);
      tf.dispose([ev.features, ev.logits, tr.features, tr.logits, value, ...Object.values(grads)]);
    },
  );
});
