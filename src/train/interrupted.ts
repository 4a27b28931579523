/** A run stopped before its last iteration (Ctrl-C, or thrown by `onStep` in tests). */
export class TrainingInterrupted extends Error {
  /** The run directory whose checkpoint continues the run, when one was written. */
  readonly runDir?: string;

  constructor(step: number, runDir?: string) {
    super(`training interrupted after step ${step}` + (runDir ? `; the checkpoint is saved, continue with: ssl run --resume ${runDir}` : ''));
    this.name = 'TrainingInterrupted';
    this.runDir = runDir;
  }
}
