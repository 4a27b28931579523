import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors.js';
import { decodeImage } from '../data/sources/index.js';
import { toInputTensor } from '../pipeline/index.js';
import { reportedLogits } from '../train/evaluate.js';
import { loadTrainedModel, type InputFormat } from './trained-model.js';
import type { ExportMetadata } from './export-model.js';

/** One image's prediction. */
export interface Prediction {
  readonly file: string;
  readonly className: string;
  readonly classIndex: number;
  /** Softmax probabilities, one per class, in class order. */
  readonly probabilities: readonly number[];
}

/** A loaded classifier: run dir (our EMA model) or exported folder (the tfjs-layers model). */
interface Loaded {
  readonly input: InputFormat;
  readonly logits: (x: tf.Tensor4D) => tf.Tensor2D;
  dispose(): void;
}

async function loadExported(dir: string): Promise<Loaded> {
  const meta = JSON.parse(await readFile(path.join(dir, 'metadata.json'), 'utf8')) as ExportMetadata;
  const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as { modelTopology: object; weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }> };
  const group = json.weightsManifest[0];
  const bytes = await readFile(path.join(dir, group.paths[0]));
  const model = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: group.weights, weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) }));
  return { input: meta, logits: (x) => model.predict(x) as tf.Tensor2D, dispose: () => model.dispose() };
}

/**
 * Classifies image files with a finished run's EMA model (`runs/<id>`) or an exported model folder
 * (`ssl export`): each file decoded, resized to the model's input and normalised as in training.
 */
export async function predictImages(source: string, files: readonly string[]): Promise<Prediction[]> {
  if (files.length === 0) throw new UserError('<images>', 'no image given', 'Name one or more image files: ssl predict runs/<id> image.png');
  const exported = existsSync(path.join(source, 'metadata.json')) && existsSync(path.join(source, 'model.json'));
  let loaded: Loaded;
  if (exported) {
    loaded = await loadExported(source);
  } else {
    const trained = await loadTrainedModel(source);
    // The head evaluation scores: the classifier's, or the reported auxiliary head's (ABC).
    loaded = { input: trained.input, logits: (x) => reportedLogits(trained.model, trained.model.forward(x, false)), dispose: () => trained.model.dispose() };
  }
  try {
    const { height, width, channels, mean, std, classNames } = loaded.input;
    if (height !== width) throw new Error(`predict: non-square input ${width}x${height} is not supported`);
    const out: Prediction[] = [];
    for (const file of files) {
      const pixels = await decodeImage(file, { size: height, channels: channels as 1 | 3 });
      const probabilities = tf.tidy(() => Array.from(tf.softmax(loaded.logits(toInputTensor(pixels, 1, height, width, channels, mean, std))).dataSync()));
      const classIndex = probabilities.indexOf(Math.max(...probabilities));
      out.push({ file, className: classNames[classIndex] ?? String(classIndex), classIndex, probabilities });
    }
    return out;
  } finally {
    loaded.dispose();
  }
}
