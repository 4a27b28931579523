// Bundles tfjs-core's gradient registrations into one ESM file that plain Node can import
// (see src/backend/gradients.ts for why). Runs after tsc in `npm run build` / `prepare`.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const coreDir = path.dirname(require.resolve('@tensorflow/tfjs-core/package.json'));
await build({
  entryPoints: [path.join(coreDir, 'dist', 'register_all_gradients.js')],
  bundle: true,
  format: 'esm',
  platform: 'node',
  outfile: path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'dist', 'vendor', 'tfjs-gradients.js'),
  logLevel: 'warning',
  legalComments: 'inline',
});
