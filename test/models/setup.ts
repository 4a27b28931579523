import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';

/**
 * Selects the backend for model tests: cpu by default; `SSL_TEST_BACKEND=torch` runs the same
 * tests on the libtorch backend (fails loudly if the addon is not built).
 */
export async function useCpu(): Promise<void> {
  const name = process.env.SSL_TEST_BACKEND ?? 'cpu';
  if (name === 'torch') {
    // Imported only on demand, so the default (cpu) run does not depend on the native engine.
    const { registerTorchBackend } = await import('../../src/backend/torch/index.js');
    const r = registerTorchBackend();
    if (!r.ok) throw new Error(`SSL_TEST_BACKEND=torch: ${r.reason}`);
  }
  if (!(await tf.setBackend(name))) throw new Error(`SSL_TEST_BACKEND=${name}: backend did not initialise`);
  await tf.ready();
  if (tf.getBackend() !== name) throw new Error(`SSL_TEST_BACKEND=${name}: active backend is ${tf.getBackend()}`);
}

/** Deterministic pseudo-random input [B, H, W, C] in [-1, 1]. */
export function fixedInput(shape: [number, number, number, number], salt = 0): tf.Tensor4D {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(1.7 * i + 0.3 + salt) * Math.cos(0.37 * i);
  return tf.tensor4d(data, shape);
}
