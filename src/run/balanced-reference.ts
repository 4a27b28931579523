import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { commonSections, resolveRunConfig, type RunConfig } from '../config/run-config.js';
import type { RelativeAccuracy, RunSummary } from '../report/run-summary.js';
import { SUPERVISED_BASELINE } from '../algorithms/index.js';

/** Runs one reference config (to completion, or on from its checkpoint) and returns its summary. */
export type RunReference = (config: RunConfig, resumeDir: string | undefined) => Promise<RunSummary>;

/** The two balanced-reference configs of a run: plain CE (A_v) and the run's own method (A_b). */
export function balancedReferenceConfigs(config: RunConfig, runDir: string): { readonly ce: RunConfig; readonly method: RunConfig } {
  const outDir = path.join(runDir, 'references');
  const balanced = { balancedLabeled: true, balancedReference: false, outDir };
  const common: Record<string, unknown> = {};
  for (const section of commonSections) for (const key of Object.keys(section)) common[key] = (config as unknown as Record<string, unknown>)[key];
  const ce = resolveRunConfig(SUPERVISED_BASELINE, [
    { source: 'balanced reference (plain CE)', values: { ...common, ...balanced, labeledLoss: 'ce', sampler: 'instance-balanced', drw: false, head: 'auto', runId: 'ce' } },
  ]);
  const method = { ...config, ...balanced, runId: 'method' } as RunConfig;
  return { ce, method };
}

/**
 * Trains (or reuses, or resumes) the run's balanced references under runs/<id>/references/ and
 * returns its relative accuracy. A method that is plain CE is its own A_v reference.
 */
export async function relativeAccuracy(config: RunConfig, runDir: string, testTop1: number, run: RunReference): Promise<RelativeAccuracy> {
  const refs = balancedReferenceConfigs(config, runDir);
  const sameAsCe = JSON.stringify({ ...refs.method, runId: '' }) === JSON.stringify({ ...refs.ce, runId: '' });
  const summaryOf = async (c: RunConfig): Promise<RunSummary> => {
    const dir = path.join(c.outDir, c.runId ?? '');
    const file = path.join(dir, 'summary.json');
    if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as RunSummary;
    return run(c, existsSync(path.join(dir, 'checkpoints', 'last.ckpt')) ? dir : undefined);
  };
  const ce = await summaryOf(refs.ce);
  const method = sameAsCe ? ce : await summaryOf(refs.method);
  const best = Math.max(ce.final.top1, method.final.top1);
  return {
    value: best > 0 ? testTop1 / best : 0,
    testTop1,
    balancedCeTop1: ce.final.top1,
    balancedMethodTop1: method.final.top1,
    references: { ce: path.join('references', refs.ce.runId ?? ''), method: path.join('references', sameAsCe ? (refs.ce.runId ?? '') : (refs.method.runId ?? '')) },
  };
}
