import type { ProgressMode } from '../options/trainer-options.js';
/** What the trainer reports after each step. */
export interface ProgressUpdate {
  readonly step: number;
  readonly total: number;
  readonly itPerSec: number;
  readonly terms: Readonly<Record<string, number>>;
}

/** Shows training progress; `lines` and `none` are for logs and tests. */
export interface Progress {
  update(p: ProgressUpdate): void;
  message(text: string): void;
  done(): void;
}

export type { ProgressMode };

/**
 * A progress display: a one-line bar redrawn in place on a TTY (iteration, it/s, ETA, losses,
 * mask rate), plain log lines every `lineEvery` steps otherwise.
 */
export function createProgress(mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr, lineEvery = 50): Progress {
  const resolved = mode === 'auto' ? (stream.isTTY ? 'bar' : 'lines') : mode;
  if (resolved === 'none') return { update() {}, message() {}, done() {} };
  let lastDraw = 0;
  let drawn = false;
  const clear = (): void => {
    if (drawn) stream.write('\r\x1b[2K');
    drawn = false;
  };
  return {
    update(p) {
      if (resolved === 'bar') {
        const now = Date.now();
        if (now - lastDraw < 100 && p.step + 1 < p.total) return;
        lastDraw = now;
        const width = 24;
        const frac = (p.step + 1) / p.total;
        const filled = Math.round(frac * width);
        const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
        stream.write(`\r\x1b[2K${bar} ${formatLine(p)}`);
        drawn = true;
      } else if ((p.step + 1) % lineEvery === 0 || p.step + 1 === p.total) {
        stream.write(`${formatLine(p)}\n`);
      }
    },
    message(text) {
      clear();
      stream.write(`${text}\n`);
    },
    done() {
      clear();
    },
  };
}

/** Loss terms as the papers write them, to keep the line short (events.jsonl keeps the full names). */
const SHORT_NAMES: Readonly<Record<string, string>> = { lossLabeled: 'L_x', lossUnlabeled: 'L_u', lossAlign: 'L_align' };

/** `it 120/2000  3.1 it/s  ETA 10:05  L_x 0.412 L_u 0.103 mask 61%`. */
export function formatLine(p: ProgressUpdate): string {
  const eta = p.itPerSec > 0 ? formatDuration((p.total - p.step - 1) / p.itPerSec) : '--:--';
  const terms = Object.entries(p.terms)
    .map(([k, v]) => (k === 'maskRate' ? `mask ${(v * 100).toFixed(0)}%` : k === 'lr' ? `lr ${v >= 1e-3 ? v.toPrecision(2) : v.toExponential(1)}` : `${SHORT_NAMES[k] ?? k} ${v.toFixed(3)}`))
    .join(' ');
  return `it ${p.step + 1}/${p.total}  ${p.itPerSec.toFixed(2)} it/s  ETA ${eta}  ${terms}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
