import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** tsx's loader, for processes that run the CLI from sources (no build needed). */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const ENTRY = path.join(import.meta.dirname, 'ssl-entry.ts');

/** Starts `ssl ...args` as its own process, from sources; its stderr is collected in `log()`. */
export function sslProcess(...args: string[]): { child: ChildProcess; log: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, ['--import', TSX, ENTRY, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, log: () => err, exited };
}
