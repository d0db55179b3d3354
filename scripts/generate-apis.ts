// Writes the generated XRDs and CRDs from the zod schemas. Run: npm run generate
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generatedApiFiles, generatedFileText } from '../src/api/definitions.js';

for (const [path, object] of Object.entries(generatedApiFiles())) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, generatedFileText(object));
  process.stdout.write(`wrote ${path}\n`);
}
