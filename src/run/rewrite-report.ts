import { existsSync } from 'node:fs';
import path from 'node:path';
import { registry, type Composition } from '../algorithms/index.js';
import { readRunHistory } from '../report/run-history.js';
import { readRunSummary, writeRunReport, type RunReportFiles } from '../report/write-report.js';
import { readRunConfig } from './run-config-file.js';

/**
 * Writes a finished run's report again from its folder alone (summary.json, events.jsonl,
 * config.json): summary.md, report.md, report.html and charts/*.png, with every chart this
 * version draws. `ssl report runs/<id>` calls it.
 * @throws UserError when the folder holds no finished run
 */
export async function rewriteRunReport(runDir: string): Promise<RunReportFiles> {
  const summary = await readRunSummary(path.join(runDir, 'summary.json'));
  let markers: ReturnType<typeof registry.chartMarkers> = [];
  if (existsSync(path.join(runDir, 'config.json'))) {
    try {
      markers = registry.chartMarkers((await readRunConfig(runDir, '<runDir>')) as unknown as Composition);
    } catch {
      // A config of a method this version does not know: no markers, the rest of the report stands.
    }
  }
  return writeRunReport(runDir, summary, readRunHistory(runDir, undefined, markers));
}
