// What makes the documented install path (README "Install in a cluster": install the
// Configuration, which installs the function and the provider) compose on the first try, checked
// by reading the shipped files. The control-plane suite proves the same under a real Crossplane.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getPath, getString, isObject, type JsonObject } from '../src/shared/json.js';
import { readObjects, readSingleObject } from '../src/shared/yaml-files.js';

const CONFIGURATION_FILE = 'package/configuration/crossplane.yaml';

/**
 * The name Crossplane's package manager gives a dependency it installs: the package's repository
 * path (no registry host, no tag) as a DNS label, e.g. ghcr.io/pgplane/function-pgplane →
 * pgplane-function-pgplane (crossplane-runtime's xpkg.ToDNSLabel of the reference's repository).
 */
function dependencyName(pkg: string): string {
  const withoutTag = pkg.replace(/[:@][^/]*$/, '');
  const repository = withoutTag.includes('.') ? withoutTag.slice(withoutTag.indexOf('/') + 1) : withoutTag;
  return repository
    .slice(0, 63)
    .toLowerCase()
    .replace(/[./:-]/g, '-')
    .replace(/[^a-z0-9-]/g, '')
    .replace(/^-+|-+$/g, '');
}

function dependencies(kind: string): string[] {
  const dependsOn = getPath(readSingleObject(CONFIGURATION_FILE), 'spec', 'dependsOn');
  return (Array.isArray(dependsOn) ? dependsOn.filter(isObject) : [])
    .filter((d) => d['kind'] === kind)
    .map((d) => getString(d, 'package') ?? '');
}

function compositions(): { file: string; composition: JsonObject }[] {
  return ['apis/namespaced', 'apis/legacy'].flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.startsWith('composition'))
      .map((f) => ({ file: join(dir, f), composition: readSingleObject(join(dir, f)) })),
  );
}

function functionRefs(composition: JsonObject): string[] {
  const pipeline = getPath(composition, 'spec', 'pipeline');
  return (Array.isArray(pipeline) ? pipeline.filter(isObject) : []).map(
    (step) => getString(step, 'functionRef', 'name') ?? '',
  );
}

describe('the Configuration installs everything the Compositions need', () => {
  it('depends on exactly one function package and on the grants provider package', () => {
    expect(dependencies('Function')).toEqual(['ghcr.io/pgplane/function-pgplane']);
    expect(dependencies('Provider')).toEqual(['ghcr.io/pgplane/provider-pgplane']);
  });

  it('names dependencies the way Crossplane does', () => {
    expect(dependencyName('ghcr.io/pgplane/function-pgplane')).toBe('pgplane-function-pgplane');
    expect(dependencyName('xpkg.crossplane.io/crossplane-contrib/function-auto-ready:v0.5.0')).toBe(
      'crossplane-contrib-function-auto-ready',
    );
  });

  it.each(compositions().map((c) => [c.file, c.composition] as const))(
    '%s calls the Function under the name the Configuration installs it as',
    (_file, composition) => {
      const installed = dependencies('Function').map(dependencyName);
      expect(functionRefs(composition)).toEqual([installed[0]]);
    },
  );

  it('examples/functions.yaml (for crossplane render) uses the same name', () => {
    const [fn] = readObjects('examples/functions.yaml');
    expect(getString(fn, 'metadata', 'name')).toBe(dependencyName(dependencies('Function')[0] ?? ''));
  });
});

describe('the legacy Composition', () => {
  it('names a namespace for connection Secrets, so the claim gets its Secret', () => {
    // Without it Crossplane sets no writeConnectionSecretToRef on the XR and never writes the
    // Secret the claim asks for, even though the function returns the connection details.
    const composition = readSingleObject('apis/legacy/composition.yaml');
    expect(getString(composition, 'spec', 'writeConnectionSecretsToNamespace')).toBe('crossplane-system');
  });
});
