#!/usr/bin/env node
// The pgplane executable: hands the command line to the CLI and exits with its status.
import { main } from './app.js';
import { processIo } from './io.js';

process.exitCode = await main(process.argv.slice(2), processIo);
