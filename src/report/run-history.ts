import path from 'node:path';
import { EventLog } from '../events/event-log.js';
import type { PseudoLabelWindow } from '../eval/pseudo-label-tracker.js';
import type { CurveEval, RunHistory } from './run-report.js';

/**
 * Reads a run's events.jsonl back into the curves the report draws: training scalars (`train`
 * events), pseudo-label windows, and the markers the run's methods draw (a warm-up's end).
 * Evaluations come from the trainer (full metrics) when given, else from the log's `eval` lines
 * (what the curves need of them).
 */
export function readRunHistory(
  runDir: string,
  evals?: ReadonlyArray<CurveEval>,
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
  const logged = events.filter((e) => e.type === 'eval' && typeof e.test === 'object' && e.test !== null).map((e) => ({ step: e.step, test: e.test, ...(e.val ? { val: e.val } : {}), ...(e.priors ? { priors: e.priors } : {}) }) as CurveEval);
  return { evals: evals ?? logged, train, pseudoLabels, markers };
}
