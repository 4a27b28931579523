import path from 'node:path';
import { EventLog } from '../events/event-log.js';
import type { EvalRecord } from './select-reported.js';
import type { PseudoLabelWindow } from '../eval/pseudo-label-tracker.js';
import type { RunHistory } from './run-report.js';

/**
 * Reads a run's events.jsonl back into the curves the report draws: training scalars (`train`
 * events), pseudo-label windows, and the markers the run's methods draw (a warm-up's end).
 * Evaluations come from the trainer (full metrics), not from the log's short eval lines.
 */
export function readRunHistory(
  runDir: string,
  evals: ReadonlyArray<EvalRecord>,
  markers: ReadonlyArray<{ readonly step: number; readonly label: string }> = [],
): RunHistory {
  const events = new EventLog(path.join(runDir, 'events.jsonl')).read();
  const train = events
    .filter((e) => e.type === 'train')
    .map((e) => {
      const values: Record<string, number> = {};
      for (const [k, v] of Object.entries(e)) if (typeof v === 'number' && k !== 'step') values[k] = v;
      return { step: e.step, values };
    });
  const pseudoLabels = events.filter((e) => e.type === 'pseudo-labels').map((e) => e.window as PseudoLabelWindow);
  return { evals, train, pseudoLabels, markers };
}
