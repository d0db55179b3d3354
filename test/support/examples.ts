// Every example scenario as a render request: each XR in examples/, with no observed state and
// with each observed/<state>/ folder, plus its required/ objects. Tests and benches share this list.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { inputFrom } from '../../src/cli/render.js';
import type { RenderRequest } from '../../src/render/render.js';
import { getString, type JsonObject } from '../../src/shared/json.js';
import { readObjects, readSingleObject } from '../../src/shared/yaml-files.js';

const EXAMPLES_DIR = 'examples';

/**
 * Invalid scenarios (examples/invalid*) whose every field is well-formed: the XRD and the API
 * server accept them, and only the platform (the function, with the Composition's Input) refuses
 * them.
 */
export const PLATFORM_REFUSED_SCENARIOS: ReadonlySet<string> = new Set([
  'invalid-tenant',
  'invalid-restore-missing-source',
  'invalid-restore-no-backups',
  'invalid-restore-bootstrapped',
  'database-name-conflict',
]);

/**
 * The time every example is rendered at (the function server of the conformance suites gets it
 * too): scheduled restore verifications are judged by it, so their expectations never drift.
 */
export const EXAMPLES_NOW = new Date('2026-12-06T05:30:00Z');

export interface ExampleCase {
  /** e.g. "agent-executor/xr@ready" */
  id: string;
  scenario: string;
  xrFile: string;
  compositionFile: string;
  state?: string;
  observedDir?: string;
  requiredDir?: string;
  request: RenderRequest;
}

const XR_FILES: Readonly<Record<string, string>> = {
  'xr.yaml': 'apis/namespaced',
  'xr-legacy.yaml': 'apis/legacy',
};

/**
 * The Composition an XR selects (spec.crossplane.compositionRef, or spec.compositionRef for
 * legacy), else the only one for its kind (a PostgresDatabase's), else the default.
 */
export function compositionFor(xr: JsonObject, apisDir: string): string {
  const wanted =
    getString(xr, 'spec', 'crossplane', 'compositionRef', 'name') ??
    getString(xr, 'spec', 'compositionRef', 'name');
  const files = readdirSync(apisDir)
    .filter((f) => f.startsWith('composition'))
    .map((f) => join(apisDir, f));
  const match = files.find((file) => getString(readSingleObject(file), 'metadata', 'name') === wanted);
  if (wanted && !match) throw new Error(`no Composition named ${wanted} in ${apisDir}`);
  const forKind = files.filter(
    (file) => getString(readSingleObject(file), 'spec', 'compositeTypeRef', 'kind') === getString(xr, 'kind'),
  );
  return match ?? (forKind.length === 1 ? forKind[0]! : join(apisDir, 'composition.yaml'));
}

export function exampleCases(): ExampleCase[] {
  const cases: ExampleCase[] = [];
  for (const scenario of readdirSync(EXAMPLES_DIR).sort()) {
    const dir = join(EXAMPLES_DIR, scenario);
    if (!existsSync(join(dir, 'xr.yaml'))) continue;
    const observedRoot = join(dir, 'observed');
    const states = existsSync(observedRoot) ? readdirSync(observedRoot).sort() : [];
    const requiredDir = existsSync(join(dir, 'required')) ? join(dir, 'required') : undefined;
    for (const [xrName, apisDir] of Object.entries(XR_FILES)) {
      const xrFile = join(dir, xrName);
      if (!existsSync(xrFile)) continue;
      const compositionFile = compositionFor(readSingleObject(xrFile), apisDir);
      const input = inputFrom(readSingleObject(compositionFile));
      const required = requiredDir ? readObjects(requiredDir) : [];
      for (const state of [undefined, ...states]) {
        const observedDir = state ? join(observedRoot, state) : undefined;
        cases.push({
          id: `${scenario}/${xrName.replace('.yaml', '')}${state ? `@${state}` : ''}`,
          scenario,
          xrFile,
          compositionFile,
          ...(state ? { state } : {}),
          ...(observedDir ? { observedDir } : {}),
          ...(requiredDir ? { requiredDir } : {}),
          request: {
            xr: readSingleObject(xrFile),
            input,
            observed: observedDir ? readObjects(observedDir) : [],
            required,
            now: EXAMPLES_NOW,
          },
        });
      }
    }
  }
  return cases;
}
