import type { RunConfig } from '../config/run-config.js';
import { UserError } from '../errors.js';

/**
 * Config keys that may change between an interrupted run and its resumption: they affect where
 * and how fast the run executes, not its numbers (a study's run ids leave them out too).
 */
export const RUNTIME_KEYS: ReadonlySet<string> = new Set(['threads', 'workers', 'prefetch', 'progress', 'outDir', 'runId', 'dataDir']);

/**
 * Refuses a checkpoint whose config differs from the run's in anything that changes the numbers,
 * naming the first such field (USB silently restarts from scratch instead; docs/methods.md §8).
 */
export function assertResumable(saved: Record<string, unknown>, current: RunConfig, source: string): void {
  const keys = new Set([...Object.keys(saved), ...Object.keys(current)]);
  for (const key of keys) {
    if (RUNTIME_KEYS.has(key)) continue;
    const a = JSON.stringify(saved[key]);
    const b = JSON.stringify((current as Record<string, unknown>)[key]);
    if (a !== b) {
      throw new UserError(
        `--resume: ${key}`,
        `the checkpoint in ${source} was written with ${key} = ${a ?? 'unset'}, this run has ${b ?? 'unset'}`,
        `Resume with the saved ${key} (remove whatever sets it differently: a flag or --preset), or start a new run.`,
      );
    }
  }
}
