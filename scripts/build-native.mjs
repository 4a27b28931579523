// Builds the libtorch addon (native/) that backs the `torch` tfjs backend. Runs as the package's
// npm `install` script: without libtorch it prints one line and exits 0, so `npm ci` works anywhere
// and `--backend auto` falls back to wasm/cpu. `--required` (npm run build:native) fails instead.
//
// libtorch is looked up in $LIBTORCH (pytorch.org's zip: include/ and lib/) and then in Debian's
// libtorch-dev layout (/usr/include, /usr/lib/<multiarch>).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const required = process.argv.includes('--required');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const fix = 'install libtorch (Debian/Ubuntu: apt-get install libtorch-dev) or set LIBTORCH, then npm run build:native';

function fail(message) {
  if (required) {
    console.error(`ssl: cannot build the torch addon: ${message}. Fix: ${fix}.`);
    process.exit(1);
  }
  console.log(`ssl: torch addon not built (${message}); the torch backend is unavailable, wasm/cpu will be used.`);
  process.exit(0);
}

/** Returns { include, lib } of the first libtorch install found, or null. */
function findLibtorch() {
  const candidates = [];
  if (process.env.LIBTORCH) candidates.push({ include: join(process.env.LIBTORCH, 'include'), lib: join(process.env.LIBTORCH, 'lib') });
  for (const arch of ['x86_64-linux-gnu', 'aarch64-linux-gnu']) {
    candidates.push({ include: '/usr/include', lib: `/usr/lib/${arch}` });
  }
  candidates.push({ include: '/usr/include', lib: '/usr/lib' });
  return (
    candidates.find(
      (c) => existsSync(join(c.include, 'ATen', 'ATen.h')) && existsSync(join(c.lib, 'libtorch_cpu.so')),
    ) ?? null
  );
}

/** node-gyp as [command, ...prefixArgs]: the local devDependency, else the copy bundled with npm. */
function findNodeGyp() {
  const local = join(root, 'node_modules', '.bin', 'node-gyp');
  if (existsSync(local)) return [local];
  const bundled = process.env.npm_config_node_gyp;
  if (bundled && existsSync(bundled)) return [process.execPath, bundled];
  return null;
}

if (process.env.SSL_SKIP_NATIVE === '1') fail('SSL_SKIP_NATIVE=1');
const torch = findLibtorch();
if (torch === null) fail('libtorch headers and libraries not found');
const nodeGyp = findNodeGyp();
if (nodeGyp === null) fail('node-gyp not found');

const args = ['rebuild', '--release', `-Dtorch_include=${torch.include}`, `-Dtorch_lib=${torch.lib}`];
// Debian ships Node's headers: use them instead of downloading them (no network needed).
if (existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');
const [cmd, ...prefix] = nodeGyp;
const started = Date.now();
const result = spawnSync(cmd, [...prefix, ...args], { cwd: nativeDir, stdio: required ? 'inherit' : 'pipe', encoding: 'utf8' });
if (result.status !== 0) {
  if (!required) {
    const tail = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-5).join(' | ');
    fail(`node-gyp failed: ${tail || result.error?.message || 'unknown error'}`);
  }
  fail(`node-gyp exited with ${result.status ?? result.error?.message}`);
}
console.log(`ssl: torch addon built against ${torch.lib} in ${Math.round((Date.now() - started) / 1000)} s.`);
