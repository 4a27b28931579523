/** `ssl` from sources, for tests that need the CLI as a separate process (see ssl-process.ts). */
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv);
