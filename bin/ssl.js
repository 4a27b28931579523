#!/usr/bin/env node
// The published entry runs the compiled CLI; `npm ci` compiles it through the `prepare` script.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
