import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { selectBackend } from './src/backend/select.js';
import { createModel } from './src/models/create-model.js';
import { softmaxCrossEntropy } from './src/ops/cross-entropy.js';
import type { TorchBackend } from './src/backend/torch/backend.js';
await import('/tmp/scratch/grads.mjs');
await selectBackend('torch', 1);
const be = tf.backend() as TorchBackend;
const addon = be.addon as any;
const nat: Record<string, number> = {};
const opNames: string[] = [];
const origOp = addon.op; addon.op = (n: string, o: string) => { const i = origOp(n, o); opNames[i] = n + '.' + o; return i; };
for (const k of Object.keys(addon)) {
  const f = addon[k]; if (k === 'op') continue;
  addon[k] = (...args: any[]) => { const t0 = performance.now(); const r = f(...args); const key = k === 'call' ? opNames[args[0]] : k; nat[key] = (nat[key] ?? 0) + performance.now() - t0; return r; };
}
const model = createModel('wrn-28-2', { numClasses: 10, inputChannels: 3, seed: 1 });
const vars = model.params.map((p) => p.variable);
const x = tf.randomNormal([320, 32, 32, 3]) as tf.Tensor4D;
const y = tf.tensor1d(Array.from({ length: 320 }, (_, i) => i % 10), 'int32');
for (let s = 0; s < 2; s++) {
  for (const k of Object.keys(nat)) delete nat[k];
  const pf0 = process.resourceUsage().minorPageFault;
  const t0 = performance.now();
  const { value, grads } = tf.variableGrads(() => tf.mean(softmaxCrossEntropy(model.forward(x, true).logits, y)) as tf.Scalar, vars);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
  const total = performance.now() - t0;
  const sum = Object.values(nat).reduce((a, b) => a + b, 0);
  console.log('step', total.toFixed(0), 'native', sum.toFixed(0), 'minor faults', process.resourceUsage().minorPageFault - pf0);
  console.log(Object.entries(nat).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `  ${k} ${v.toFixed(0)}`).join('\n'));
}
