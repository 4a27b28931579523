/** Entry of a study's run process (forked by the local executor and by queue workers). */
import { serveRuns } from './run-process.js';

serveRuns();
