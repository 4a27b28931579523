/**
 * A study's plan: its definition expanded into one resolved RunConfig per grid cell and seed, each
 * with a stable id (the same grid gives the same ids, so a resumed or re-queued study finds its
 * runs again), saved as `studies/<id>/study.json`. Every config is resolved and validated before
 * anything is written, so bad input leaves no half-made study behind.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';
import { registry } from '../algorithms/index.js';
import { optionSpecsFor, resolveRunConfig, shippedPresetLayers, type RunConfig } from '../config/run-config.js';
import { RUNTIME_KEYS } from '../run/resume.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { fieldOf, methodLabel, parseMethod, type StudyDefinition } from './definition.js';

/** The file that makes a folder a study. */
export const STUDY_FILE = 'study.json';

/** One run of a study. */
export interface PlannedRun {
  /** Stable id: `<method>-gu<γ_u>-s<seed>-<hash of the resolved config>`; its folder is `runs/<runId>`. */
  readonly runId: string;
  /** Canonical method label (`fixmatch+daso`), the table row. */
  readonly method: string;
  readonly gammaU: number;
  readonly seed: number;
  /**
   * The resolved config. `outDir` is `runs` (relative to the study folder; the executor points it
   * at the study folder on its machine); `threads` 0 lets the executor give the run its share of the cores.
   */
  readonly config: RunConfig;
}

/** studies/<id>/study.json. */
export interface StudyPlan {
  readonly schemaVersion: 1;
  readonly kind: 'ssl-study';
  /** `<name>-<hash of the run ids>`: the same grid gives the same id. */
  readonly id: string;
  readonly definition: StudyDefinition;
  readonly runs: readonly PlannedRun[];
  /** The Redis URL the study was queued on, when it was (`ssl study status` asks it). */
  readonly queue?: string;
  readonly createdAt: string;
}

/** JSON with object keys sorted at every level, so equal values hash equally. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * A run's stable id from its resolved config: everything that changes its numbers (not where or
 * how fast it runs: threads, workers, outDir, runId, dataDir, ...) hashed.
 */
export function stableRunId(method: string, gammaU: number, seed: number, config: RunConfig): string {
  const numbers: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (!RUNTIME_KEYS.has(k)) numbers[k] = v;
  return `${method.replace(/\+/g, '_')}-gu${gammaU}-s${seed}-${sha(stableJson(numbers)).slice(0, 8)}`;
}

/**
 * Expands a definition into its runs: for each method (row), γ_u (column) and seed, the shipped
 * presets of the method, then `set` (the keys that apply to that method), then γ_u and the seed.
 * A `set` key no method of the study accepts is refused.
 * @param setSource what `set` came from, for error messages ('pipelines/studies/x.yaml: set', 'command line')
 */
export async function planStudy(def: StudyDefinition, setSource: string): Promise<StudyPlan> {
  const compositions = def.methods.map((m) => parseMethod(m, fieldOf(setSource, 'methods')));
  const used = new Set<string>();
  const runs: PlannedRun[] = [];
  for (const c of compositions) {
    const accepted = optionSpecsFor(c);
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(def.set)) {
      if (accepted.has(k)) {
        values[k] = v;
        used.add(k);
      }
    }
    const dataset = typeof values.dataset === 'string' ? values.dataset : undefined;
    const presets = await shippedPresetLayers(c, dataset);
    const method = methodLabel(c);
    for (const gammaU of def.gammaU) {
      for (const seed of def.seeds) {
        const resolved = resolveRunConfig(c, [...presets, { source: setSource, values }, { source: 'study grid', values: { gammaU, seed } }]);
        const config = { ...resolved, outDir: 'runs', progress: 'none' } as RunConfig;
        const runId = stableRunId(method, gammaU, seed, config);
        runs.push({ runId, method, gammaU, seed, config: { ...config, runId } as RunConfig });
      }
    }
  }
  for (const key of Object.keys(def.set)) {
    if (!used.has(key)) {
      const owners = registry.ownersOf(key);
      throw new UserError(fieldOf(setSource, key), `applies to none of the study's methods (${def.methods.join(', ')})${owners.length > 0 ? `; it is an option of ${owners.join(', ')}` : ''}`, 'Remove it, or add a method it applies to.');
    }
  }
  const id = `${def.name}-${sha(runs.map((r) => r.runId).sort().join('\n')).slice(0, 8)}`;
  return { schemaVersion: 1, kind: 'ssl-study', id, definition: def, runs, createdAt: new Date().toISOString() };
}

/**
 * Reads studies/<id>/study.json.
 * @param flag the flag or argument that named the folder, for the error
 * @throws UserError when the folder is not a study
 */
export async function readStudyPlan(studyDir: string, flag: string): Promise<StudyPlan> {
  const file = path.join(studyDir, STUDY_FILE);
  const fix = 'Point it at a folder made by `ssl study` (studies/<id>, holding study.json).';
  if (!existsSync(studyDir)) throw new UserError(flag, `${studyDir} does not exist`, fix);
  if (!existsSync(file)) throw new UserError(flag, `${studyDir} is not a study (it has no ${STUDY_FILE})`, fix);
  let plan: Partial<StudyPlan>;
  try {
    plan = JSON.parse(await readFile(file, 'utf8')) as Partial<StudyPlan>;
  } catch {
    throw new UserError(flag, `${file} is not valid JSON`, 'Restore it, or plan the study again in a new folder.');
  }
  if (plan.kind !== 'ssl-study' || plan.schemaVersion !== 1 || !Array.isArray(plan.runs) || typeof plan.id !== 'string') {
    throw new UserError(flag, `${file} is not an ssl study file (kind ${String(plan.kind)}, schemaVersion ${String(plan.schemaVersion)})`, fix);
  }
  return plan as StudyPlan;
}

/** Writes study.json atomically. */
export async function writeStudyPlan(studyDir: string, plan: StudyPlan): Promise<void> {
  await writeFileAtomic(path.join(studyDir, STUDY_FILE), `${JSON.stringify(plan, null, 2)}\n`);
}

/**
 * Refuses to resume `saved` with a grid that is not the one it holds, naming the runs that differ.
 * Flags that change only how runs execute (threads, ...) do not change run ids, so they pass.
 */
export function assertSamePlan(saved: StudyPlan, asked: StudyPlan, studyDir: string): void {
  const a = new Set(saved.runs.map((r) => r.runId));
  const b = new Set(asked.runs.map((r) => r.runId));
  const missing = [...a].filter((id) => !b.has(id));
  const extra = [...b].filter((id) => !a.has(id));
  if (missing.length === 0 && extra.length === 0) return;
  const list = (xs: string[]): string => `${xs.slice(0, 3).join(', ')}${xs.length > 3 ? `, and ${xs.length - 3} more` : ''}`;
  throw new UserError(
    '--resume',
    `${studyDir} holds another grid: ${extra.length > 0 ? `these flags add ${list(extra)}` : ''}${extra.length > 0 && missing.length > 0 ? '; ' : ''}${missing.length > 0 ? `they drop ${list(missing)}` : ''}`,
    `Resume it with its own grid (give --resume ${studyDir} without grid flags), or start a new study without --resume.`,
  );
}

/** The run of a plan with this id. */
export function plannedRun(plan: StudyPlan, runId: string): PlannedRun {
  const run = plan.runs.find((r) => r.runId === runId);
  if (!run) throw new UserError('runId', `study ${plan.id} has no run ${runId}`, 'The queue job names a run of another version of the study; re-queue the study.');
  return run;
}
