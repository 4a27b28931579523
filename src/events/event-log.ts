import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic-write.js';

/** One line of events.jsonl: a typed record with the step it belongs to. */
export interface RunEvent {
  readonly type: 'start' | 'resume' | 'train' | 'eval' | 'pseudo-labels' | 'checkpoint' | 'boundary' | 'generation' | 'end';
  readonly step: number;
  readonly time: string;
  readonly [key: string]: unknown;
}

/**
 * Append-only JSON-lines event log. Appends are synchronous so that a crash loses at most the line
 * being written; on resume the log is cut back to the checkpoint's step so that it reads as one
 * uninterrupted run.
 */
export class EventLog {
  readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  append(event: Omit<RunEvent, 'time'>): void {
    appendFileSync(this.file, `${JSON.stringify({ ...event, time: new Date().toISOString() })}\n`);
  }

  /** Events as recorded; a torn last line (crash mid-write) is skipped. */
  read(): RunEvent[] {
    if (!existsSync(this.file)) return [];
    const out: RunEvent[] = [];
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as RunEvent);
      } catch {
        // A torn line can only be the last one written before a crash.
      }
    }
    return out;
  }

  /** Keeps only events of steps < `step` (plus the first 'start'), atomically. */
  async truncateFrom(step: number): Promise<void> {
    const kept = this.read().filter((e) => e.step < step || e.type === 'start');
    await writeFileAtomic(this.file, kept.map((e) => JSON.stringify(e)).join('\n') + (kept.length ? '\n' : ''));
  }
}
