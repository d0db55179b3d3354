// Writes the TypeScript types of the upstream kinds pgplane composes (src/function/compose/upstream)
// from the CRDs in ../shared/crds, and removes modules of kinds no longer listed.
// Run: npm run generate:types (part of npm run generate).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRD_TYPES_DIR, generateCrdTypes, REPO_ROOT } from './crd-types.js';

const files = await generateCrdTypes();
const dir = join(REPO_ROOT, CRD_TYPES_DIR);
mkdirSync(dir, { recursive: true });
for (const name of readdirSync(dir)) {
  const path = `${CRD_TYPES_DIR}/${name}`;
  if (!(path in files)) {
    rmSync(join(REPO_ROOT, path));
    process.stdout.write(`removed ${path}\n`);
  }
}
for (const [path, text] of Object.entries(files)) {
  writeFileSync(join(REPO_ROOT, path), text);
  process.stdout.write(`wrote ${path}\n`);
}
