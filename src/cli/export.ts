import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/select.js';
import { exportModel } from '../run/export-model.js';
import { loadTrainedModel } from '../run/trained-model.js';
import { predictImages } from '../run/predict.js';
import type { CliOutput } from './output.js';

/** `ssl export` and `ssl predict`: a run's model outside `ssl`, and on new images. */
export function createExportCommands(output: CliOutput): Command[] {
  const exportCmd = new Command('export')
    .description('write a run\'s EMA model as a tfjs-layers model (model.json, weights.bin) plus metadata.json, for @tensorflow/tfjs in a browser: cnn-small, wrn-28-2, resnet-32 (BBN too), linear or LWS head')
    .argument('<runDir>', 'a run directory (runs/<id>)')
    .option('--out-dir <dir>', 'where model.json, weights.bin and metadata.json go', 'model')
    .addHelpText('after', '\nExamples:\n  $ ssl export runs/<id> --out-dir examples/browser/model\n  $ ssl predict examples/browser/model image.png   # the exported model, as the page runs it\n')
    .action(async (runDir: string, flags: { outDir: string }) => {
      // The plain-JS backend: the same kernels the browser's tfjs runs, and all of tfjs-layers' ops.
      await selectBackend('cpu');
      const trained = await loadTrainedModel(runDir);
      // Two random images: any difference of structure shows on one; wrn-28-2 on the cpu backend takes seconds per batch.
      const check = tf.randomNormal([2, trained.input.height, trained.input.width, trained.input.channels], 0, 1, 'float32', 0) as tf.Tensor4D;
      try {
        const { files, maxGap } = await exportModel(trained, flags.outDir, check);
        output.out(`exported ${trained.runId} (step ${trained.step}) to ${flags.outDir}: ${files.map((f) => f.split('/').pop()).join(', ')}; probabilities match the run's to ${maxGap.toExponential(1)}\n`);
      } finally {
        check.dispose();
        trained.model.dispose();
      }
    });
  const predictCmd = new Command('predict')
    .description('classify images with a run\'s EMA model (runs/<id>) or an exported model folder')
    .argument('<model>', 'a run directory or a folder written by ssl export')
    .argument('<images...>', 'image files (PNG, JPEG, ...); resized to the model\'s input')
    .option('--json', 'print one JSON object per image')
    .action(async (source: string, images: string[], flags: { json?: boolean }) => {
      await selectBackend('cpu');
      for (const p of await predictImages(source, images)) {
        if (flags.json) output.out(`${JSON.stringify(p)}\n`);
        else output.out(`${p.file}: ${p.className} (${(100 * p.probabilities[p.classIndex]).toFixed(1)}%)  [${p.probabilities.map((v) => v.toFixed(4)).join(' ')}]\n`);
      }
    });
  return [exportCmd, predictCmd];
}
