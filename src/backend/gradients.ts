import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Registers tfjs-core's gradient functions (tfjs-core registers none by itself).
 *
 * tfjs-core's ESM files use directory imports that plain Node ESM refuses, and its Node bundle
 * leaves the gradients out. So the build (`scripts/bundle-gradients.mjs`, run by `npm run build`)
 * bundles them into dist/vendor/tfjs-gradients.js; they register into tfjs's global registry, which
 * every copy of tfjs-core shares. From sources, the built bundle when there is one (a study's run
 * processes start from sources under tsx in tests), else the ESM entry (vitest resolves it).
 */
export async function registerGradients(): Promise<void> {
  if (tf.getGradient('Conv2D') !== undefined) return;
  // dist/vendor next to dist/backend; from sources, the built package's (tsx, unlike vitest, cannot load the ESM entry).
  const bundled = [new URL('../vendor/tfjs-gradients.js', import.meta.url), new URL('../../dist/vendor/tfjs-gradients.js', import.meta.url)].find((u) => existsSync(fileURLToPath(u)));
  if (bundled) {
    await import(bundled.href);
  } else {
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  }
  if (tf.getGradient('Conv2D') === undefined) throw new Error('registerGradients: tfjs gradients did not register');
}
