import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { loadTorchAddon } from './addon.js';
import { TorchBackend } from './backend.js';
import { registerFusedKernels, registerGradientOverrides } from './fused.js';
import { registerExtraKernels } from './kernels-extra.js';
import { BACKEND_NAME, registerKernels } from './kernels.js';

export { TorchBackend } from './backend.js';
export { BACKEND_NAME as TORCH_BACKEND_NAME } from './kernels.js';

/** Outcome of registering the torch backend: registered, or why not. */
export type TorchRegistration = { readonly ok: true } | { readonly ok: false; readonly reason: string };

let kernelsRegistered = false;

/**
 * Registers the `torch` tfjs backend (libtorch addon) and its kernels, once. Does not make it
 * active: call `tf.setBackend('torch')`. Never throws; when the addon is missing, says why.
 *
 * @param threads intra-op threads for libtorch. When omitted, the first registration sets the
 *   number of cores (libtorch may otherwise start with 1) and later ones keep the current count.
 */
export function registerTorchBackend(threads?: number): TorchRegistration {
  const load = loadTorchAddon();
  if (load.addon === null) return { ok: false, reason: load.reason };
  const addon = load.addon;
  if (threads !== undefined) addon.setThreads(threads);
  else if (!kernelsRegistered) addon.setThreads(availableParallelism());
  if (tf.findBackendFactory(BACKEND_NAME) === null) {
    tf.registerBackend(BACKEND_NAME, () => {
      registerGradientOverrides();
      return new TorchBackend(addon);
    });
  }
  if (!kernelsRegistered) {
    registerKernels();
    registerExtraKernels();
    registerFusedKernels();
    kernelsRegistered = true;
  }
  return { ok: true };
}

/** Live native tensors held by the addon (for leak tests); 0 when the addon is not loaded. */
export function liveNativeTensors(): number {
  const load = loadTorchAddon();
  return load.addon === null ? 0 : load.addon.live();
}
