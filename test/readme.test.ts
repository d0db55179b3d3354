// The README is the user's manual: every PostgresInstance and Input field is documented, and the
// two set-up commands it promises are the ones the project defines.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { functionInputSchema } from '../src/api/function-input.js';
import { postgresInstanceSpecSchema } from '../src/api/postgres-instance.js';

const readme = readFileSync('README.md', 'utf8');
const packageJson = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };

describe('README', () => {
  it.each(Object.keys(postgresInstanceSpecSchema.shape))('documents spec.%s', (field) => {
    expect(readme).toContain(`| \`${field}\` |`);
  });

  it.each(Object.keys(functionInputSchema.shape).filter((f) => f !== 'apiVersion' && f !== 'kind'))(
    'documents Input %s',
    (field) => {
      expect(readme).toContain(`| \`${field}\` |`);
    },
  );

  it('gives the two commands, and they exist', () => {
    expect(readme).toContain(
      'npm ci && npm run render -- examples/agent-executor/xr.yaml --input apis/namespaced/composition.yaml',
    );
    expect(readme).toMatch(/^npm test$/m);
    expect(packageJson.scripts.render).toBeDefined();
    expect(packageJson.scripts.test).toBeDefined();
  });
});
