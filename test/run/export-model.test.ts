/**
 * `exportModel` for every net: a randomly initialised model with random BatchNorm statistics and
 * affine parameters (so inference-mode BN matters), written to a folder, read back from its
 * model.json + weights.bin with tfjs-layers, gives our eval-mode probabilities to 1e-4 on random
 * input. Plus BBN's two branches, LWS's folded scales, ABC's reported head, and the heads export refuses.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveRunConfig } from '../../src/config/run-config.js';
import type { Classifier } from '../../src/models/model.js';
import { exportModel, type ExportSource } from '../../src/run/export-model.js';
import { reportedLogits } from '../../src/train/evaluate.js';
import type { Composition } from '../../src/algorithms/index.js';
import { createRunModel } from '../../src/train/training-state.js';
import { fixedInput, useCpu } from '../models/setup.js';
import { userErrorAsync } from '../helpers/user-error.js';

beforeAll(useCpu);
const work = mkdtempSync(path.join(tmpdir(), 'ssl-export-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const NUM_CLASSES = 5;

/**
 * Every rank-1 variable drawn at random: BN γ, running variance and LWS scales in [0.5, 1.5],
 * BN β, running mean and biases in [−0.3, 0.3]. Then the head scaled so the logits of `x` stay
 * within ±3: untrained residual nets in eval mode give logits in the hundreds, whose softmax is
 * one-hot and would hide any difference.
 */
function randomise(model: Classifier, x: tf.Tensor4D): void {
  let seed = 7;
  for (const { name, variable } of [...model.params, ...model.buffers]) {
    if (variable.rank !== 1) continue;
    const positive = /(\.weight|running_var|scales)$/.test(name);
    tf.tidy(() => variable.assign(tf.randomUniform(variable.shape, positive ? 0.5 : -0.3, positive ? 1.5 : 0.3, 'float32', seed++)));
  }
  const biggest = tf.tidy(() => tf.max(tf.abs(reported(model, x))).dataSync()[0]);
  for (const { name, variable } of model.params) {
    const head = model.headVariables.has(name) || name.startsWith('aux.');
    if (head && !name.endsWith('.scales')) tf.tidy(() => variable.assign(tf.mul(variable, 3 / biggest)));
  }
}

/** Our eval-mode logits of the head evaluation scores (the classifier's, or ABC's reported one); caller owns them. */
function reported(model: Classifier, x: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => reportedLogits(model, model.forward(x, false)));
}

/** Reads an exported folder back as a tfjs-layers model, as a page's `tf.loadLayersModel` does. */
async function loadExported(dir: string): Promise<tfl.LayersModel> {
  const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { modelTopology: object; weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }> };
  const [group] = json.weightsManifest;
  const bytes = readFileSync(path.join(dir, group.paths[0]));
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: group.weights, weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) }));
}

/** A model of `algorithm` with `values`, randomised, exported to `work/<name>`. */
async function exportedPair(name: string, algorithm: Composition | string, values: Record<string, unknown>, shape: [number, number, number, number]) {
  const config = resolveRunConfig(algorithm, [{ source: 'test', values }]);
  const [, height, width, channels] = shape;
  const model = createRunModel(config, { numClasses: NUM_CLASSES, inputChannels: channels });
  const x = fixedInput(shape, 1);
  randomise(model, x);
  const source: ExportSource = {
    config,
    model,
    step: 0,
    runId: name,
    input: { height, width, channels, mean: Array(channels).fill(0.5), std: Array(channels).fill(0.25), classNames: ['a', 'b', 'c', 'd', 'e'] },
  };
  const dir = path.join(work, name);
  const { files, maxGap } = await exportModel(source, dir, x);
  return { config, model, x, dir, files, maxGap, source };
}

/** Largest |Δ| of probabilities and logits (relative to the logits' range) between ours and the export. */
function gaps(model: Classifier, exported: tfl.LayersModel, x: tf.Tensor4D): { probs: number; logits: number; spread: number } {
  return tf.tidy(() => {
    const ours = reported(model, x);
    const theirs = exported.predict(x) as tf.Tensor2D;
    const max = (t: tf.Tensor): number => tf.max(t).dataSync()[0];
    return {
      probs: max(tf.abs(tf.sub(tf.softmax(ours), tf.softmax(theirs)))),
      logits: max(tf.abs(tf.sub(ours, theirs))) / max(tf.abs(ours)),
      // Probabilities far from one-hot: the comparison sees the logits, not only their argmax.
      spread: max(tf.softmax(ours)),
    };
  });
}

describe('exportModel', () => {
  // Fashion-MNIST's 28x28x1 for cnn-small and ResNet-32 (stride 2 gives 14, then an odd 7), CIFAR's 32x32x3 for WRN.
  it.each([
    ['cnn-small', [2, 28, 28, 1], 0],
    ['wrn-28-2', [2, 32, 32, 3], 2],
    ['resnet-32', [2, 28, 28, 1], 4],
  ] as const)('%s: the exported model.json + weights give our eval-mode probabilities to 1e-4', async (net, shape, zeroPads) => {
    const before = tf.memory().numTensors;
    const { model, x, dir, files, maxGap } = await exportedPair(net, 'supervised', { net }, [...shape]);
    expect(files.map((f) => path.basename(f))).toEqual(['model.json', 'weights.bin', 'metadata.json']);
    expect(maxGap).toBeLessThan(1e-4);
    const exported = await loadExported(dir);
    const g = gaps(model, exported, x);
    expect(g.probs).toBeLessThan(1e-4);
    expect(g.logits).toBeLessThan(1e-5);
    expect(g.spread).toBeLessThan(0.99);
    // Every weight of ours is in the file once: parameter + buffer counts equal the export's.
    const ours = [...model.params, ...model.buffers].reduce((s, v) => s + v.variable.size, 0);
    expect(exported.countParams()).toBe(ours);
    // The stride-2 3x3 convs are ZeroPadding2D + 'valid' (TF's 'same' would pad bottom/right only):
    // WRN's unit2.0 and unit3.0; ResNet-32's layer2.0 and layer3.0, plus their option-A shortcuts' channel padding.
    const classes = (JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')).modelTopology.config.layers as Array<{ class_name: string }>).map((l) => l.class_name);
    expect(classes.filter((c) => c === 'ZeroPadding2D').length).toBe(zeroPads);
    expect(JSON.parse(readFileSync(path.join(dir, 'metadata.json'), 'utf8'))).toMatchObject({ format: 'ssl-export', net, runId: net, classNames: ['a', 'b', 'c', 'd', 'e'] });
    exported.dispose();
    x.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('BBN: both branches over one trunk, concatenated into the linear head', async () => {
    const { model, x, dir, maxGap } = await exportedPair('bbn', 'bbn', { net: 'cnn-small' }, [2, 28, 28, 1]);
    expect(maxGap).toBeLessThan(1e-4);
    const exported = await loadExported(dir);
    expect(exported.getLayer('features').getClassName()).toBe('Concatenate');
    expect(gaps(model, exported, x).probs).toBeLessThan(1e-4);
    exported.dispose();
    x.dispose();
    model.dispose();
  });

  it('LWS: the per-class scales folded into one Dense layer, x(W·s) + b·s', async () => {
    const { model, x, dir, maxGap } = await exportedPair('lws', 'decoupled', { net: 'cnn-small', classifier: 'lws', stage1: 'runs/stage-one' }, [2, 28, 28, 1]);
    expect(maxGap).toBeLessThan(1e-4);
    const scales = model.params.find((p) => p.name.endsWith('.scales'));
    expect(scales && Math.min(...scales.variable.dataSync())).toBeLessThan(0.9);
    const exported = await loadExported(dir);
    expect(gaps(model, exported, x).probs).toBeLessThan(1e-4);
    exported.dispose();
    x.dispose();
    model.dispose();
  });

  it('ABC: the reported balanced head (aux.abc), not the classifier head it leaves out', async () => {
    const { model, x, dir, maxGap } = await exportedPair('abc', { algorithm: 'fixmatch', with: ['abc'] }, { net: 'cnn-small' }, [2, 28, 28, 1]);
    expect(model.reportedHead).toBe('abc');
    expect(maxGap).toBeLessThan(1e-4);
    const exported = await loadExported(dir);
    expect(exported.layers[exported.layers.length - 1].name).toBe('aux.abc');
    expect(gaps(model, exported, x).probs).toBeLessThan(1e-4);
    const classifierHead = [...model.params].filter((p) => model.headVariables.has(p.name)).reduce((n, p) => n + p.variable.size, 0);
    expect(exported.countParams()).toBe([...model.params, ...model.buffers].reduce((n, v) => n + v.variable.size, 0) - classifierHead);
    // The classifier head's probabilities are another answer: the export did not write that one.
    const other = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.softmax(model.forward(x, false).logits), tf.softmax(exported.predict(x) as tf.Tensor2D)))).dataSync()[0]);
    expect(other).toBeGreaterThan(1e-2);
    exported.dispose();
    x.dispose();
    model.dispose();
  });

  it.each([
    ['cosine', 'supervised', { head: 'cosine' }, /--head cosine, which L2-normalises/],
    ['cosine from LDAM', 'supervised', { labeledLoss: 'ldam' }, /--head cosine \(--loss ldam asks for it\)/],
    ['tde', 'supervised', { head: 'tde' }, /--head tde/],
    ['ncm', 'decoupled', { classifier: 'ncm', stage1: 'runs/stage-one', iterations: 0 }, /nearest-class-mean \(NCM\) head/],
  ] as const)('refuses a %s head, naming it, and writes nothing', async (name, algorithm, values, pattern) => {
    const before = tf.memory().numTensors;
    const dir = path.join(work, `refused-${name.replace(/ /g, '-')}`);
    const config = resolveRunConfig(algorithm, [{ source: 'test', values: { net: 'cnn-small', ...values } }]);
    const model = createRunModel(config, { numClasses: NUM_CLASSES, inputChannels: 1 });
    const x = fixedInput([1, 28, 28, 1]);
    const input = { height: 28, width: 28, channels: 1, mean: [0.5], std: [0.25], classNames: [] };
    const err = await userErrorAsync(exportModel({ config, model, step: 0, runId: name, input }, dir, x));
    expect(err.message).toMatch(pattern);
    expect(err.message).toMatch(/ssl export writes linear and LWS heads/);
    expect(err.fix).toMatch(/ssl predict <runDir>/);
    expect(() => readFileSync(path.join(dir, 'model.json'))).toThrow();
    x.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
