import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors.js';
import { registry } from '../algorithms/index.js';
import type { Classifier } from '../models/model.js';
import { reportedLogits } from '../train/evaluate.js';
import { headSpecOf } from '../train/training-state.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { type ExportHead, layersModelOf } from './export-graph.js';
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

/** What `exportModel` reads of a finished run (`loadTrainedModel` gives it). */
export type ExportSource = Pick<TrainedModel, 'config' | 'model' | 'input' | 'step' | 'runId'>;

/**
 * The head to write: the model's reported head (the one evaluation scores). An auxiliary head
 * (ABC's) is linear. The classifier head is the one the model was built with (the learner's, else
 * `--head`'s): linear heads (τ-norm's and cRT's too) and LWS's export as one Dense layer; cosine,
 * TDE and NCM L2-normalise the features, which no built-in tfjs-layers layer does, so they are
 * refused rather than written as a different head.
 */
function exportHead(source: ExportSource): ExportHead {
  const { config, model } = source;
  if (model.reportedHead !== null) return { kind: 'aux', name: model.reportedHead };
  const spec = registry.learnerHooks(config).model.head ?? headSpecOf(config, model.numClasses);
  if (spec.kind === 'linear' || spec.kind === 'lws') return { kind: spec.kind };
  const which = spec.kind === 'ncm' ? 'a nearest-class-mean (NCM) head' : `--head ${spec.kind}${spec.kind === 'cosine' && config.labeledLoss === 'ldam' ? ' (--loss ldam asks for it)' : ''}`;
  throw new UserError(
    '<runDir>',
    `this run has ${which}, which L2-normalises its features: no built-in tfjs-layers layer does that, so a browser could not run it as trained; ssl export writes linear and LWS heads`,
    'Classify with `ssl predict <runDir>` (it runs the run\'s own model), or export a run with a linear or LWS head.',
  );
}

/** Largest |Δ probability| between our model's reported head and the exported model on `x`. */
function maxProbabilityGap(ours: Classifier, exported: tfl.LayersModel, x: tf.Tensor4D): number {
  return tf.tidy(() => {
    const a = tf.softmax(reportedLogits(ours, ours.forward(x, false)));
    const b = tf.softmax(exported.predict(x) as tf.Tensor2D);
    return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
  });
}

/**
 * Writes `outDir/model.json` + `weights.bin` (a tfjs-layers model that plain `@tensorflow/tfjs`
 * loads with `tf.loadLayersModel`) and `metadata.json` (class names, input size, normalisation).
 * Any net (cnn-small, wrn-28-2, resnet-32; BBN's two branches too) with a linear or LWS head;
 * other heads are refused (UserError). Checks before writing that the exported model gives the
 * run's probabilities on `check` [B, H, W, C] (borrowed) to 1e-4.
 */
export async function exportModel(trained: ExportSource, outDir: string, check: tf.Tensor4D): Promise<{ readonly files: readonly string[]; readonly maxGap: number }> {
  const { input } = trained;
  const exported = layersModelOf(trained.model, exportHead(trained), [input.height, input.width, input.channels], `ssl_${trained.config.algorithm}`);
  try {
    const maxGap = maxProbabilityGap(trained.model, exported, check);
    if (!(maxGap < 1e-4)) throw new Error(`export: the exported model differs from the run's by ${maxGap} in probability`);
    await mkdir(outDir, { recursive: true });
    const files: string[] = [];
    await exported.save(
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
    exported.dispose();
  }
}
