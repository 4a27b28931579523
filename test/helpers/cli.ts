import { main } from '../../src/cli/main.js';
import { listAvailableBackends } from '../../src/backend/select.js';

/** Runs the CLI as the binary does (`ssl ...args`) and captures its exit code and output. */
export async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'ssl', ...args], { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

/** The fastest backend for end-to-end tests: torch where the addon is built (CI), unless SSL_TEST_BACKEND=cpu. */
export async function testBackend(): Promise<'torch' | 'cpu'> {
  return process.env.SSL_TEST_BACKEND !== 'cpu' && (await listAvailableBackends()).includes('torch') ? 'torch' : 'cpu';
}
