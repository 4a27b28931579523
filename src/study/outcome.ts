/**
 * How a study command ends when not every run finished: the CLI prints the message and sets the
 * exit code (130 interrupted, 1 failed runs); the study folder holds everything needed to go on.
 */

/** Stopped (Ctrl-C) before every run ended; every run it started has a checkpoint. */
export class StudyInterrupted extends Error {
  readonly studyDir: string;

  constructor(studyDir: string, message?: string) {
    super(message ?? `study interrupted; every started run has a checkpoint. Continue with: ssl study mismatch --resume ${studyDir}`);
    this.name = 'StudyInterrupted';
    this.studyDir = studyDir;
  }
}

/** Every run ended, and some failed: each is recorded in its folder (failure.json) and in the report. */
export class StudyFailed extends Error {
  readonly studyDir: string;
  readonly failures: ReadonlyArray<{ readonly runId: string; readonly error: string }>;

  constructor(studyDir: string, failures: ReadonlyArray<{ readonly runId: string; readonly error: string }>) {
    super(
      `${failures.length} run(s) of ${studyDir} failed:\n${failures.map((f) => `  ${f.runId}: ${f.error.split('\n')[0]}`).join('\n')}\n` +
        `Each error is in runs/<run>/failure.json and logs/<run>.log. Fix the cause, then re-run them with: ssl study mismatch --resume ${studyDir}`,
    );
    this.name = 'StudyFailed';
    this.studyDir = studyDir;
    this.failures = failures;
  }
}
