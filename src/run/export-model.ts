import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors.js';
import { CNN_SMALL_CHANNELS, POOL_AFTER } from '../models/cnn-small.js';
import { BN_EPS, LEAKY_SLOPE } from '../models/layers.js';
import type { Classifier } from '../models/model.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { packageVersion } from './environment.js';
import type { InputFormat, TrainedModel } from './trained-model.js';

/** metadata.json of an exported model: what a page needs besides model.json to classify an image. */
export interface ExportMetadata extends InputFormat {
  readonly format: 'ssl-export';
  readonly version: 1;
  readonly runId: string;
  readonly net: string;
  readonly step: number;
  /** How to make the input tensor, in words (the page in examples/browser does exactly this). */
  readonly preprocessing: string;
}

/**
 * The run's cnn-small EMA model as a tfjs-layers Sequential model with the same weights: convs with
 * 'same' padding (= symmetric padding 1 at stride 1), BatchNorm ε = 1e-5 in inference mode,
 * LeakyReLU 0.1, 2×2 max pools, global average pool, Dense. Only cnn-small with a linear head for
 * now: the residual nets need a functional graph.
 */
function layersModelOf(trained: TrainedModel): tfl.Sequential {
  const { config, model, input } = trained;
  if (config.net !== 'cnn-small' || config.head !== 'linear' || model.featureDim !== CNN_SMALL_CHANNELS[CNN_SMALL_CHANNELS.length - 1]) {
    throw new UserError('<runDir>', `export supports cnn-small with a linear head for now; this run has --net ${config.net}, --head ${config.head}${model.featureDim !== 128 ? ', another model' : ''}`, 'Export a cnn-small run (the embedded default), or use the run with `ssl predict`.');
  }
  const seq = tfl.sequential({ name: `ssl_${config.algorithm}` });
  CNN_SMALL_CHANNELS.forEach((filters, i) => {
    seq.add(
      tfl.layers.conv2d({
        name: `conv${i + 1}`,
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        ...(i === 0 ? { inputShape: [input.height, input.width, input.channels] } : {}),
      }),
    );
    seq.add(tfl.layers.batchNormalization({ name: `bn${i + 1}`, axis: -1, epsilon: BN_EPS }));
    seq.add(tfl.layers.leakyReLU({ name: `act${i + 1}`, alpha: LEAKY_SLOPE }));
    if (POOL_AFTER.has(i)) seq.add(tfl.layers.maxPooling2d({ name: `pool${i + 1}`, poolSize: 2, strides: 2, padding: 'valid' }));
  });
  seq.add(tfl.layers.globalAveragePooling2d({ name: 'pool' }));
  seq.add(tfl.layers.dense({ name: 'classifier', units: model.numClasses }));
  const ours = new Map([...model.params, ...model.buffers].map((v) => [v.name, v.variable]));
  const source = (name: string): string => {
    const [layer, weight] = name.split('/');
    if (layer === 'classifier') return `classifier.classifier.${weight === 'kernel' ? 'weight' : 'bias'}`;
    const i = layer.slice(-1);
    if (layer.startsWith('conv')) return `encoder.conv${i}.weight`;
    return `encoder.bn${i}.${{ gamma: 'weight', beta: 'bias', moving_mean: 'running_mean', moving_variance: 'running_var' }[weight] ?? weight}`;
  };
  seq.setWeights(
    seq.weights.map((w) => {
      const v = ours.get(source(w.originalName));
      if (!v) throw new Error(`export: no variable for ${w.originalName} (${source(w.originalName)})`);
      return v;
    }),
  );
  return seq;
}

/** Largest |Δ probability| between our model and the exported one on `x`. */
function maxProbabilityGap(ours: Classifier, exported: tfl.Sequential, x: tf.Tensor4D): number {
  return tf.tidy(() => {
    const a = tf.softmax(ours.forward(x, false).logits);
    const b = tf.softmax(exported.predict(x) as tf.Tensor2D);
    return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
  });
}

/**
 * Writes `outDir/model.json` + `weights.bin` (a tfjs-layers model that plain `@tensorflow/tfjs`
 * loads with `tf.loadLayersModel`) and `metadata.json` (class names, input size, normalisation).
 * Checks before writing that the exported model gives the run's probabilities on random inputs.
 */
export async function exportModel(trained: TrainedModel, outDir: string, check: tf.Tensor4D): Promise<{ readonly files: readonly string[]; readonly maxGap: number }> {
  const seq = layersModelOf(trained);
  try {
    const maxGap = maxProbabilityGap(trained.model, seq, check);
    if (!(maxGap < 1e-4)) throw new Error(`export: the exported model differs from the run's by ${maxGap} in probability`);
    await mkdir(outDir, { recursive: true });
    const files: string[] = [];
    await seq.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weights = path.join(outDir, 'weights.bin');
        await writeFileAtomic(weights, Buffer.from(artifacts.weightData as ArrayBuffer));
        const modelJson = {
          format: 'layers-model',
          generatedBy: `ssl ${packageVersion()}`,
          convertedBy: null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        };
        await writeFileAtomic(path.join(outDir, 'model.json'), `${JSON.stringify(modelJson)}\n`);
        files.push(path.join(outDir, 'model.json'), weights);
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const metadata: ExportMetadata = {
      format: 'ssl-export',
      version: 1,
      runId: trained.runId,
      net: trained.config.net,
      step: trained.step,
      ...trained.input,
      preprocessing: `resize to ${trained.input.width}x${trained.input.height}${trained.input.channels === 1 ? ', grey' : ', RGB'}; input = (pixel/255 − mean)/std per channel, NHWC float32`,
    };
    const metaFile = path.join(outDir, 'metadata.json');
    await writeFileAtomic(metaFile, `${JSON.stringify(metadata, null, 2)}\n`);
    files.push(metaFile);
    return { files, maxGap };
  } finally {
    seq.dispose();
  }
}
