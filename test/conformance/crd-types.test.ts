// The upstream kinds' TypeScript types (src/function/compose/upstream) are exactly what
// scripts/generate-crd-types.ts makes from the CRDs in ../shared/crds: editing one by hand, or
// updating a CRD without `npm run generate:types`, fails here.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CRD_TYPES_DIR, generateCrdTypes, REPO_ROOT, SHARED_CRDS_DIR } from '../../scripts/crd-types.js';

describe('generated upstream types are up to date (run `npm run generate:types`)', () => {
  let generated: Record<string, string>;
  beforeAll(async () => {
    if (!existsSync(SHARED_CRDS_DIR))
      throw new Error(
        `${SHARED_CRDS_DIR} is missing: the upstream CRDs must sit in shared/ beside the clone`,
      );
    generated = await generateCrdTypes();
  }, 120_000);

  it('every committed module is a generated one, and none is missing', () => {
    const committed = readdirSync(join(REPO_ROOT, CRD_TYPES_DIR)).map((name) => `${CRD_TYPES_DIR}/${name}`);
    expect(committed.sort()).toEqual(Object.keys(generated).sort());
  });

  it('every module is byte-identical to a regeneration', () => {
    for (const [path, text] of Object.entries(generated)) {
      expect({ path, text: readFileSync(join(REPO_ROOT, path), 'utf8') }).toEqual({ path, text });
    }
  });

  it('translates the Kubernetes extensions the builders meet', () => {
    const cluster = generated[`${CRD_TYPES_DIR}/cnpg-cluster.ts`]!;
    // x-kubernetes-int-or-string (resource quantities) is a number or a string.
    expect(cluster).toMatch(/\[k: string\]: number \| string;/);
    expect(cluster).toContain("apiVersion: 'postgresql.cnpg.io/v1';");
    // Only the desired state: no status a builder could set by mistake.
    expect(cluster).not.toMatch(/^\s+status\?: \{$/m);
    // An untyped x-kubernetes-preserve-unknown-fields value (provider-specific metadata) is any JSON.
    expect(generated[`${CRD_TYPES_DIR}/eso-push-secret.ts`]).toMatch(/^\s+metadata\?: unknown;$/m);
  });
});
