// The XRDs and CRDs in the repository are exactly what the zod schemas generate: editing one by
// hand, or changing a schema without `npm run generate`, fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedApiFiles, generatedFileText } from '../../src/api/definitions.js';

describe('generated API files are up to date (run `npm run generate` after changing src/api)', () => {
  it.each(Object.entries(generatedApiFiles()))('%s', (path, object) => {
    expect(readFileSync(path, 'utf8')).toBe(generatedFileText(object));
  });

  it('carry the zod constraints users rely on in kubectl explain and admission', () => {
    const xrd = JSON.stringify(generatedApiFiles()['apis/namespaced/definition.yaml']);
    expect(xrd).toContain('"enum":["14","15","16","17","18"]');
    expect(xrd).toContain('"pattern":"^[A-Za-z_][A-Za-z0-9_]*$"');
    expect(xrd).toContain('"default":"small"');
    expect(xrd).toContain('"required":["version","storageGB","databaseName","databaseOwner"]');
  });
});
