// Conformance with the real Crossplane CLI: for every example XR (namespaced and legacy) and every
// observed state, `crossplane render` runs the Composition against `pgplane serve function
// --insecure`, its output must equal the reviewed expectation in expected/, and
// `crossplane beta validate` (plus kubernetes-models for core kinds) must accept every object
// against the XRDs in apis/ and the upstream CRDs in ../shared/crds.
//
// Regenerate the expectations after an intended change with
//   node --import tsx scripts/update-render-expectations.ts
// (UPDATE_EXPECTED=1; refused when CI is set, so CI fails on drift and never rewrites).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPath, isObject, type JsonObject } from '../../src/shared/json.js';
import {
  FUNCTIONS_FILE,
  INPUT_CRD_FILE,
  REPO_ROOT,
  canonicalYaml,
  compositionFiles,
  crossplaneVersion,
  installCrossplane,
  parseDocuments,
  prefillValidateCache,
  renderArgs,
  renderCases,
  requiredResourcesFlag,
  run,
  sharedCrdFiles,
  startFunctionServer,
  updatingExpectations,
  validateRendered,
  type FunctionServer,
  type RenderCase,
} from '../support/crossplane.js';
import { PLATFORM_REFUSED_SCENARIOS } from '../support/examples.js';

const EXPECTED_DIR = join(REPO_ROOT, 'test/conformance/expected');
/**
 * Scenarios whose XR is wrong on purpose (examples/invalid*): render must fail, naming every
 * wrong field. A new invalid example must be listed here with the fields its comment promises.
 */
const MUST_FAIL: ReadonlyMap<string, readonly string[]> = new Map([
  ['invalid', ['spec.databaseOwner', 'spec.storageGB']],
  [
    'invalid-features',
    ['spec.parameters.wal_level', 'spec.backup.schedule', 'spec.extensions[0]', 'spec.backup is set'],
  ],
  ['invalid-restore-missing-source', ['spec.restore.from names "ledger"', 'no CloudNativePG Cluster']],
  ['invalid-restore-no-backups', ['spec.restore.from names "ledger"', 'has no backups configured']],
  ['invalid-restore-bootstrapped', ['spec.restore was added after']],
  [
    'invalid-tenant',
    ['spec.parameters.search_path', 'spec.credentials.remoteKey', 'spec.connectionSecretName makes'],
  ],
  ['invalid-database', ['spec.databaseOwner', 'spec.extensions']],
  // A valid claim to names an older tenant of the same server holds: refused, naming both.
  ['database-name-conflict', ['spec.databaseName "orders"', 'PostgresDatabase team-a/orders']],
]);

/**
 * Observed states the function refuses although the XR itself is valid (the running Cluster makes
 * the spec wrong): render must fail for these cases, by name, naming the field.
 */
const MUST_FAIL_STATES: ReadonlyMap<string, readonly string[]> = new Map([
  ['major-upgrade-downgrade', ['spec.version is "17", lower than PostgreSQL 18']],
  ['major-upgrade-refused-without-backup', ['spec.version is "17", a major upgrade', 'allowWithoutBackup']],
]);

const mustFail = (scenario: string): boolean => MUST_FAIL.has(scenario) || scenario.startsWith('invalid');

const cases = renderCases();
const rendering = cases.filter((c) => !mustFail(c.scenario) && !MUST_FAIL_STATES.has(c.name));
const failing = cases.filter((c) => mustFail(c.scenario) || MUST_FAIL_STATES.has(c.name));
const update = updatingExpectations();

let crossplane = '';
let requiredFlag = '';
let server: FunctionServer | undefined;
let workDir = '';
let cacheDir = '';

beforeAll(async () => {
  // Fail early, with the path, when ../shared/crds is not beside the repository.
  sharedCrdFiles();
  crossplane = await installCrossplane();
  process.stderr.write(
    `crossplane render conformance: ${crossplane} (${await crossplaneVersion(crossplane)})\n`,
  );
  requiredFlag = await requiredResourcesFlag(crossplane);
  workDir = await mkdtemp(join(tmpdir(), 'pgplane-crossplane-'));
  cacheDir = join(workDir, 'validate-cache');
  prefillValidateCache(cacheDir);
  server = await startFunctionServer();
  // A cold build of the Crossplane CLI takes 5-15 minutes on two cores.
}, 1_800_000);

afterAll(async () => {
  await server?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function render(example: RenderCase) {
  if (!server) throw new Error('the function server did not start');
  return run(crossplane, renderArgs(example, server.target, requiredFlag));
}

function failure(example: RenderCase, result: { code: number; stdout: string; stderr: string }): string {
  return [
    `crossplane ${renderArgs(example, server?.target ?? '?', requiredFlag).join(' ')}`,
    `exit ${result.code}`,
    result.stderr,
    '--- function server output ---',
    server?.output().slice(-4000) ?? '',
  ].join('\n');
}

describe('the examples', () => {
  it('include the namespaced and legacy XRs, observed states and the invalid XR', () => {
    const names = cases.map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining(['agent-executor', 'agent-executor-ready', 'agent-executor-legacy', 'invalid']),
    );
    expect(cases.some((c) => c.requiredDir)).toBe(true);
  });
});

describe.each(rendering.map((c) => [c.name, c] as const))('crossplane render %s', (name, example) => {
  let objects: JsonObject[] = [];

  beforeAll(async () => {
    const result = await render(example);
    if (result.code !== 0) throw new Error(failure(example, result));
    objects = parseDocuments(result.stdout);
  });

  it('matches the reviewed expectation', () => {
    const file = join(EXPECTED_DIR, `${name}.yaml`);
    const text = canonicalYaml(objects);
    if (update) {
      mkdirSync(EXPECTED_DIR, { recursive: true });
      writeFileSync(file, text);
      return;
    }
    if (!existsSync(file)) {
      throw new Error(
        `no expectation ${file}: review the output and write it with scripts/update-render-expectations.ts`,
      );
    }
    // Compared as data, so formatting the file (prettier) is not drift; any value change is.
    expect(objects).toEqual(parseDocuments(readFileSync(file, 'utf8')));
  });

  it('renders the XR first, then composed resources named by composition-resource-name', () => {
    const [xr, ...rest] = objects;
    const source = parseDocuments(readFileSync(example.xrFile, 'utf8'))[0];
    expect(xr?.kind).toBe(source?.kind);
    expect(getPath(xr, 'metadata', 'name')).toBe(getPath(source, 'metadata', 'name'));
    const composed = rest.filter((o) => o.kind !== 'Result');
    expect(composed.length).toBeGreaterThan(0);
    for (const object of composed) {
      expect(getPath(object, 'metadata', 'annotations', 'crossplane.io/composition-resource-name')).toEqual(
        expect.any(String),
      );
    }
  });

  it('validates against the XRDs, the upstream CRDs and the Kubernetes schema', async () => {
    const outcome = await validateRendered(
      crossplane,
      [example.xrdFile],
      objects,
      join(workDir, name),
      cacheDir,
    );
    expect(outcome.problems, outcome.output).toEqual([]);
  });
});

describe.each(failing.map((c) => [c.name, c] as const))('crossplane render %s', (_name, example) => {
  it('fails, naming each wrong field', async () => {
    const fields = MUST_FAIL.get(example.scenario) ?? MUST_FAIL_STATES.get(example.name);
    if (!fields)
      throw new Error(`examples/${example.scenario} looks invalid on purpose: list its fields in MUST_FAIL`);
    const result = await render(example);
    expect(result.code, result.stdout).not.toBe(0);
    expect(result.stdout.trim()).toBe('');
    for (const field of fields) expect(result.stderr).toContain(field);
  });
});

describe('the example inputs, as the API server would see them', () => {
  // What users apply (XRs and claims) must pass the generated XRDs; the invalid XR must not.
  // The legacy XRD defines the claim too: claim.yaml beside xr-legacy.yaml is checked against it.
  const inputs = new Map<string, string>();
  for (const c of cases) {
    inputs.set(c.xrFile, c.xrdFile);
    const claim = join(dirname(c.xrFile), 'claim.yaml');
    if (c.xrFile.endsWith('xr-legacy.yaml') && existsSync(claim)) inputs.set(claim, c.xrdFile);
  }

  it.each([...inputs].map(([file, xrd]) => [relative(REPO_ROOT, file), file, xrd] as const))(
    '%s',
    async (name, file, xrd) => {
      const objects = parseDocuments(readFileSync(file, 'utf8'));
      const outcome = await validateRendered(
        crossplane,
        [xrd],
        objects,
        join(workDir, 'inputs', name),
        cacheDir,
      );
      const scenario = relative(join(REPO_ROOT, 'examples'), file).split('/')[0]!;
      const fields = MUST_FAIL.get(scenario);
      if (fields && !PLATFORM_REFUSED_SCENARIOS.has(scenario)) {
        // The XRD rejects what its schema can express (patterns, bounds); the rest is the function's.
        expect(outcome.problems, outcome.output).not.toEqual([]);
      } else {
        expect(outcome.problems, outcome.output).toEqual([]);
      }
    },
  );
});

describe('the platform manifests', () => {
  it.each(compositionFiles().map((file) => [relative(REPO_ROOT, file), file] as const))(
    '%s and its function Input validate',
    async (name, file) => {
      const [composition] = parseDocuments(readFileSync(file, 'utf8'));
      // validate checks the Composition against Crossplane's CRD (from the prefilled cache) and,
      // as it does for every Composition it loads, each pipeline step's input against its CRD:
      // here the generated Input CRD.
      const outcome = await validateRendered(
        crossplane,
        [INPUT_CRD_FILE],
        [composition!],
        join(workDir, 'platform', name),
        cacheDir,
      );
      expect(outcome.output).toMatch(/\[✓\] pgplane\.fn\.crossplane\.io\/v1beta1, Kind=Input/);
      expect(outcome.problems, outcome.output).toEqual([]);
    },
  );

  it('examples/functions.yaml validates as a Crossplane Function', async () => {
    const objects = parseDocuments(readFileSync(FUNCTIONS_FILE, 'utf8'));
    const outcome = await validateRendered(
      crossplane,
      [],
      objects,
      join(workDir, 'platform', 'functions'),
      cacheDir,
    );
    expect(outcome.problems, outcome.output).toEqual([]);
  });
});

describe('crossplane beta validate', () => {
  // The checks above are only worth something if validate really fails on these mistakes.
  const base = (): JsonObject => ({
    apiVersion: 'postgresql.cnpg.io/v1',
    kind: 'Cluster',
    metadata: { name: 'probe', namespace: 'default' },
    spec: { instances: 1, storage: { size: '1Gi' } },
  });

  it('accepts a minimal CNPG Cluster', async () => {
    const outcome = await validateRendered(crossplane, [], [base()], join(workDir, 'probe-ok'), cacheDir);
    expect(outcome.problems, outcome.output).toEqual([]);
  });

  it('fails on an unknown field', async () => {
    const cluster = base();
    if (isObject(cluster.spec)) cluster.spec.instancez = 3;
    const outcome = await validateRendered(
      crossplane,
      [],
      [cluster],
      join(workDir, 'probe-unknown'),
      cacheDir,
    );
    expect(outcome.problems.join('\n')).toContain('instancez');
  });

  it('fails on a wrong type', async () => {
    const cluster = base();
    if (isObject(cluster.spec)) cluster.spec.instances = 'three';
    const outcome = await validateRendered(crossplane, [], [cluster], join(workDir, 'probe-type'), cacheDir);
    expect(outcome.problems.join('\n')).toContain('spec.instances');
  });

  it('fails on a kind with no schema', async () => {
    const outcome = await validateRendered(
      crossplane,
      [],
      [{ apiVersion: 'example.org/v1', kind: 'Nothing', metadata: { name: 'x' } }],
      join(workDir, 'probe-missing'),
      cacheDir,
    );
    expect(outcome.problems.join('\n')).toContain('could not find CRD/XRD');
  });

  it('fails on an unknown field of a core Secret', async () => {
    const outcome = await validateRendered(
      crossplane,
      [],
      [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringdata: { a: 'b' } }],
      join(workDir, 'probe-secret'),
      cacheDir,
    );
    expect(outcome.problems.join('\n')).toContain('stringdata');
  });
});
