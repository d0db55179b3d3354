#!/usr/bin/env node
// Placeholder entry point so the skeleton builds; the real CLI follows.
process.stdout.write('pgplane\n');
