import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerTorchBackend } from './src/backend/torch/index.js';
registerTorchBackend(2);
for (const be of ['cpu', 'torch']) {
  await tf.setBackend(be);
  const a = tf.ones([8, 8]);
  for (let r = 0; r < 2; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 10000; i++) tf.tidy(() => tf.add(a, a));
    console.log(be, 'add us/op', ((performance.now() - t0) / 10000 * 1000).toFixed(2));
  }
  const x = tf.ones([6, 8, 8, 8]); const w = tf.ones([3,3,8,8]);
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) tf.tidy(() => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'));
  console.log(be, 'conv us/op', ((performance.now() - t0) / 200 * 1000).toFixed(2));
}
