#!/usr/bin/env node
// The pgplane executable: hands the command line to the CLI and exits with its status.
import { main } from './app.js';
import { processIo } from '../shared/io.js';

// Entry files beside this one are found from here: in tsc's output and in the bundle alike, this
// file is dist/cli/main.js, while the code that starts them may sit in a chunk elsewhere.
process.exitCode = await main(process.argv.slice(2), processIo, {
  functionWorker: new URL('./function-worker.js', import.meta.url),
});
