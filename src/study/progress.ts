/**
 * Study-wide progress: runs done / total, what is running and at which step, and an ETA. A line
 * redrawn in place on a TTY; plain lines (at each run's start and end, and every 30 s) otherwise.
 */
import { formatDuration, type ProgressMode } from '../train/progress.js';
import { countStates, estimateSecondsLeft, type EtaView } from './run-state.js';

/** A run as the progress line shows it. */
export interface ProgressRun extends EtaView {
  /** `fixmatch+daso γu=100 s0`. */
  readonly label: string;
}

/**
 * `study mismatch-1a2b: 3/12 done, 1 failed | fixmatch γu=1 s0 120/1600, ... | ETA 12:30`.
 * @param concurrency runs at once, for the ETA between runs
 */
export function formatStudyProgress(id: string, runs: readonly ProgressRun[], concurrency: number): string {
  const n = countStates(runs);
  const parts = [`${n.done}/${runs.length} done`];
  if (n.failed > 0) parts.push(`${n.failed} failed`);
  if (n.interrupted > 0) parts.push(`${n.interrupted} interrupted`);
  const running = runs.filter((r) => r.state === 'running').map((r) => `${r.label} ${r.step ?? 0}/${r.total}`);
  const eta = estimateSecondsLeft(runs, concurrency);
  return `study ${id}: ${parts.join(', ')}${running.length > 0 ? ` | ${running.join(', ')}` : ''} | ETA ${eta === null ? '--:--' : formatDuration(eta)}`;
}

/** A study progress display. */
export interface StudyProgress {
  update(runs: readonly ProgressRun[]): void;
  /** A line of its own (a run started or ended). */
  message(text: string): void;
  done(): void;
}

/** Where a progress display writes: a terminal (redrawn line) or a log. */
export interface ProgressSink {
  write(text: string): void;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** The display for `--progress` (auto: the redrawn line on a TTY, lines otherwise). */
export function createStudyProgress(id: string, mode: ProgressMode, concurrency: number, stream: ProgressSink, lineEveryMs = 30_000): StudyProgress {
  const resolved = mode === 'auto' ? (stream.isTTY ? 'bar' : 'lines') : mode;
  if (resolved === 'none') return { update() {}, message() {}, done() {} };
  let last: readonly ProgressRun[] = [];
  let lastDraw = 0;
  let drawn = false;
  const clear = (): void => {
    if (drawn) stream.write('\r\x1b[2K');
    drawn = false;
  };
  const draw = (): void => {
    lastDraw = Date.now();
    if (resolved === 'bar') {
      stream.write(`\r\x1b[2K${formatStudyProgress(id, last, concurrency).slice(0, Math.max(40, (stream.columns ?? 160) - 1))}`);
      drawn = true;
    } else {
      stream.write(`${formatStudyProgress(id, last, concurrency)}\n`);
    }
  };
  return {
    update(runs) {
      last = runs;
      if (Date.now() - lastDraw > (resolved === 'bar' ? 200 : lineEveryMs)) draw();
    },
    message(text) {
      clear();
      stream.write(`${text}\n`);
      if (resolved === 'lines' || last.length > 0) draw();
    },
    done() {
      clear();
    },
  };
}
