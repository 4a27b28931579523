// Scratch micro-benchmark (not part of the package): a supervised training step of our models.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { selectBackend } from './src/backend/select.js';
import { createModel } from './src/models/create-model.js';
import { softmaxCrossEntropy } from './src/ops/cross-entropy.js';
import { sgdUpdate } from './src/ops/sgd.js';
import { emaUpdate } from './src/ops/ema.js';
await import('/work/main/dist/vendor/tfjs-gradients.js');
const net = process.argv[2] ?? 'wrn-28-2';
const batch = Number(process.argv[3] ?? 320);
const steps = Number(process.argv[4] ?? 5);
const threads = Number(process.argv[5] ?? 2);
console.log(await selectBackend('torch', threads));
const model = createModel(net, { numClasses: 10, inputChannels: 3, seed: 1 });
const vars = model.params.map((p) => p.variable);
const vel = vars.map((v) => tf.variable(tf.zerosLike(v), false));
const ema = vars.map((v) => tf.variable(tf.clone(v), false));
const x = tf.randomNormal([batch, 32, 32, 3]) as tf.Tensor4D;
const y = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32');
const times: number[] = [];
for (let s = 0; s < steps; s++) {
  const t0 = performance.now();
  const { value, grads } = tf.variableGrads(() => tf.mean(softmaxCrossEntropy(model.forward(x, true).logits, y)) as tf.Scalar, vars);
  sgdUpdate(vars, vars.map((v) => grads[v.name]), vel, { lr: 0.03, momentum: 0.9, weightDecay: 5e-4, nesterov: true });
  emaUpdate(ema, vars, 0.999);
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]);
  times.push(performance.now() - t0);
  console.log(`step ${s} ${(times[s]).toFixed(0)} ms loss ${loss.toFixed(3)} img/s ${(batch / times[s] * 1000).toFixed(1)} tensors ${tf.memory().numTensors}`);
}
