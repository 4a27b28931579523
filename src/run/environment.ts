import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { Precision, PrecisionSelection } from '../backend/precision.js';

/** What ran a job: saved as runs/<id>/environment.json so a number can be traced to its setup. */
export interface RunEnvironment {
  readonly backend: string;
  readonly backendNote: string;
  /** Convolution arithmetic (`--precision`, resolved) and why. */
  readonly precision: Precision;
  readonly precisionNote: string;
  readonly seed: number;
  readonly packageVersion: string;
  readonly gitCommit: string | null;
  readonly node: string;
  readonly tfjs: string;
  readonly platform: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly hostname: string;
}

/** The package root (works from src/ under vitest and from dist/). */
export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** The package's version from its package.json ('unknown' in a stripped install without one). */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function describeEnvironment(backend: string, backendNote: string, seed: number, precision: PrecisionSelection = { precision: 'fp32', note: 'fp32' }): RunEnvironment {
  const root = packageRoot();
  let gitCommit: string | null;
  try {
    gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    gitCommit = null;
  }
  return {
    backend,
    backendNote,
    precision: precision.precision,
    precisionNote: precision.note,
    seed,
    packageVersion: packageVersion(),
    gitCommit,
    node: process.version,
    tfjs: tf.version_core,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    hostname: os.hostname(),
  };
}
