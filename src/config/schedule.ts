import { createHash } from 'node:crypto';
import { dataOptions, modelOptions } from '../options/run-options.js';
import { trainerOptions } from '../options/trainer-options.js';
import { slotOptions } from './slot-options.js';
import type { ScheduleRecord } from '../report/run-summary.js';

export type { ScheduleRecord };

/**
 * Settings that are not a schedule: what a study varies inside one table (seed, γ_u), where the
 * data lives, and bookkeeping that does not change a number.
 */
const NOT_SCHEDULE = new Set(['seed', 'gammaU', 'dataDir', 'splitFile', 'balancedReference', 'checkpointEvery', 'progress']);

/** The config keys a baseline and its "+method" variants must share for their rows to compare. */
export const SCHEDULE_KEYS: readonly string[] = [dataOptions, modelOptions, trainerOptions, slotOptions].flatMap((s) => Object.keys(s)).filter((k) => !NOT_SCHEDULE.has(k));

/** The schedule of a resolved config. */
export function scheduleOf(config: { readonly algorithm: string; readonly with: readonly string[] } & Readonly<Record<string, unknown>>): ScheduleRecord {
  const values: Record<string, unknown> = {};
  for (const k of [...SCHEDULE_KEYS].sort()) values[k] = config[k] ?? null;
  const fingerprint = createHash('sha256').update(JSON.stringify(values)).digest('hex').slice(0, 12);
  return { fingerprint, parent: config.with.length > 0 ? config.algorithm : null, values };
}
