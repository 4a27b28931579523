import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../errors.js';
import { registerTorchBackend } from './torch/index.js';
import { registerGradients } from './gradients.js';

/** Backend names accepted by `--backend`: `auto`, then the concrete backends fastest first. */
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'torch', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
type Concrete = Exclude<BackendChoice, 'auto'>;

/** Which backend is active and why (for the run log). */
export interface BackendSelection {
  readonly name: string;
  readonly note: string;
}

/** In the order `auto` tries them: fastest first. */
const PREFERENCE: readonly Concrete[] = ['tensorflow', 'torch', 'wasm', 'cpu'];

const FIX: Readonly<Record<Concrete, string>> = {
  tensorflow: 'npm install @tensorflow/tfjs-node (or @tensorflow/tfjs-node-gpu with CUDA 11), which downloads libtensorflow',
  torch: 'apt-get install libtorch-dev && npm run build:native (or set LIBTORCH to a libtorch download first)',
  wasm: 'reinstall the package (npm ci) so @tensorflow/tfjs-backend-wasm is present',
  cpu: 'reinstall the package (npm ci) so @tensorflow/tfjs-backend-cpu is present',
};

type Probe = { readonly ok: true; readonly detail: string } | { readonly ok: false; readonly reason: string };

async function importOptional(name: string): Promise<boolean> {
  try {
    // A variable specifier: these packages are optional and usually absent.
    const specifier: string = name;
    await import(specifier);
    return true;
  } catch {
    return false;
  }
}

/** Makes backend `name` loadable (registers its factory and kernels) without activating it. */
async function probe(name: Concrete, threads?: number): Promise<Probe> {
  switch (name) {
    case 'tensorflow': {
      for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
        if (await importOptional(pkg)) return { ok: true, detail: pkg };
      }
      return { ok: false, reason: '@tensorflow/tfjs-node(-gpu) is not installed' };
    }
    case 'torch': {
      const r = registerTorchBackend(threads);
      const count = threads === undefined ? 'default threads' : `${threads} thread${threads === 1 ? '' : 's'}`;
      return r.ok ? { ok: true, detail: `libtorch addon, ${count}` } : { ok: false, reason: r.reason };
    }
    case 'wasm':
      return (await importOptional('@tensorflow/tfjs-backend-wasm'))
        ? { ok: true, detail: 'WebAssembly' }
        : { ok: false, reason: '@tensorflow/tfjs-backend-wasm is not installed' };
    case 'cpu':
      return (await importOptional('@tensorflow/tfjs-backend-cpu'))
        ? { ok: true, detail: 'plain JavaScript' }
        : { ok: false, reason: '@tensorflow/tfjs-backend-cpu is not installed' };
  }
}

async function activate(name: Concrete): Promise<boolean> {
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

/**
 * Activates a tfjs backend. `auto` prefers tensorflow (tfjs-node/-gpu, when installed) > torch
 * (our libtorch addon) > wasm > cpu. Asking for a specific backend that is unavailable throws a
 * UserError naming the fix; `auto` never throws while cpu is installed.
 *
 * @param threads CPU threads for the torch backend (default: number of cores).
 * @returns the active backend's name and a one-line note saying why it was picked.
 */
export async function selectBackend(name: BackendChoice, threads?: number): Promise<BackendSelection> {
  // Every backend trains through tfjs's gradient registry, which tfjs-core leaves empty.
  await registerGradients();
  // Production mode silences tfjs's console banners (the cpu backend's advert for tfjs-node,
  // which does not install here); we print our own backend line instead.
  tf.enableProdMode();
  const n = threads ?? availableParallelism();
  if (name !== 'auto') {
    if (!PREFERENCE.includes(name)) {
      throw new UserError('--backend', `unknown backend '${String(name)}'`, `Use one of: auto, ${PREFERENCE.join(', ')}`);
    }
    const p = await probe(name, n);
    if (!p.ok) throw new UserError('--backend', `${name} is not available (${p.reason})`, `Fix: ${FIX[name]}`);
    if (!(await activate(name))) throw new UserError('--backend', `${name} failed to initialise`, `Fix: ${FIX[name]}`);
    return { name, note: `${name} (${p.detail}), as requested` };
  }
  const skipped: string[] = [];
  for (const candidate of PREFERENCE) {
    const p = await probe(candidate, n);
    if (!p.ok) {
      skipped.push(`${candidate}: ${p.reason}`);
      continue;
    }
    if (!(await activate(candidate))) {
      skipped.push(`${candidate}: failed to initialise`);
      continue;
    }
    const why = skipped.length === 0 ? 'the fastest available' : `skipped ${skipped.join('; ')}`;
    return { name: candidate, note: `${candidate} (${p.detail}); ${why}` };
  }
  throw new UserError('--backend', 'no tfjs backend could be loaded', `Fix: ${FIX.cpu}`);
}

/** Names of the backends this machine can run, fastest first. Registers but does not activate them. */
export async function listAvailableBackends(): Promise<string[]> {
  const out: string[] = [];
  for (const name of PREFERENCE) {
    if ((await probe(name)).ok) out.push(name);
  }
  return out;
}
