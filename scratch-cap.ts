import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { selectBackend } from './src/backend/select.js';
import { createModel } from './src/models/create-model.js';
import { softmaxCrossEntropy } from './src/ops/cross-entropy.js';
await import('/tmp/scratch/grads.mjs');
await selectBackend('torch', 1);
const model = createModel('wrn-28-2', { numClasses: 10, inputChannels: 3, seed: 1 });
const vars = model.params.map((p) => p.variable);
const x = tf.randomNormal([320, 32, 32, 3]) as tf.Tensor4D;
const y = tf.tensor1d(Array.from({ length: 320 }, (_, i) => i % 10), 'int32');
let captured: tf.Tensor[] | null = null;
const times: Record<string, number> = {};
const orig = tf.engine().runKernel.bind(tf.engine());
(tf.engine() as any).runKernel = (name: string, inputs: any, attrs: any) => {
  const t0 = performance.now();
  const out = orig(name, inputs, attrs);
  times[name] = (times[name] ?? 0) + performance.now() - t0;
  if (name === 'SslLeakyReluBackward' && captured === null && inputs.dy.shape[3] === 32) captured = [tf.keep(tf.clone(inputs.dy)), tf.keep(tf.clone(inputs.x))];
  return out;
};
const t0 = performance.now();
const { value, grads } = tf.variableGrads(() => tf.mean(softmaxCrossEntropy(model.forward(x, true).logits, y)) as tf.Scalar, vars);
value.dataSync();
console.log('step', (performance.now() - t0).toFixed(0), 'rss MB', (process.memoryUsage().rss / 1e6).toFixed(0));
console.log(Object.entries(times).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => `${k} ${v.toFixed(0)}`).join('\n'));
tf.dispose([value, ...Object.values(grads)]);
const [dy, xx] = captured!;
const dv = dy.dataSync(); let tiny = 0, zeros = 0; for (const v of dv) { if (v === 0) zeros++; else if (Math.abs(v) < 1.2e-38) tiny++; }
console.log('dy denormals', tiny, 'zeros', zeros, 'of', dv.length, 'max', Math.max(...dv.slice(0, 100000).map(Math.abs)));
for (let r = 0; r < 3; r++) { const t1 = performance.now(); tf.tidy(() => tf.engine().runKernel('SslLeakyReluBackward', { dy, x: xx }, { alpha: 0.1 })); console.log('isolated lrelu bwd', (performance.now() - t1).toFixed(1)); }
