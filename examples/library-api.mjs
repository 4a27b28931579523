// Using ssl as a library: draw DASO's long-tailed split of the embedded Fashion-MNIST, then train
// FixMatch + DASO for a few iterations with the same trainer `ssl run` uses.
//   npm ci && node examples/library-api.mjs
import { loadDataset, drawLongTailSplit, classCounts, resolveRunConfig, runExperiment } from 'ssl-lt';

const dataset = await loadDataset({ name: 'fashion-mnist' });
const split = drawLongTailSplit(dataset.train.labels, dataset.numClasses, {
  n1: 1500, m1: 3000, gammaL: 100, gammaU: 1, validationPerClass: 100, labeledInUnlabeled: false, seed: 0,
});
console.log('labeled per class:', classCounts(split.labeled, dataset.train.labels, dataset.numClasses).join(' '));

// Values are validated exactly like CLI flags and presets (same schema, same error messages).
const config = resolveRunConfig('daso', [
  { source: 'example', values: { net: 'cnn-small', iterations: 100, evalEvery: 50, validationPerClass: 100, dasoWarmup: 20, dasoHistogramWindow: 10, outDir: 'runs', progress: 'lines' } },
]);
const { runDir, summary } = await runExperiment(config, { dataset });
console.log(`balanced accuracy ${(summary.final.balancedAccuracy * 100).toFixed(1)}% -> ${runDir}/report.html`);
