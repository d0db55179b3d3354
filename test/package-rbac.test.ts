// Crossplane v2 creates, patches and deletes composed objects with its own service account, so
// every kind the function can compose must be granted to it. package/rbac/crossplane-aggregate.yaml
// aggregates those rights into Crossplane's ClusterRole. This test renders every example (and each
// again with DatabaseRole role management, the one kind no example turns on) and checks that each
// composed (group, resource) is covered with every verb Crossplane uses: a kind added to the
// function without its RBAC fails here, not in a cluster with "... is forbidden: cannot patch".
// The control-plane suite proves the same live, with Crossplane bound to nothing but its own role.
import { describe, expect, it } from 'vitest';
import { render } from '../src/render/render.js';
import { getPath, getString, isObject, type JsonObject } from '../src/shared/json.js';
import { readObjects } from '../src/shared/yaml-files.js';
import { exampleCases } from './support/examples.js';

const AGGREGATE_FILE = 'package/rbac/crossplane-aggregate.yaml';
const AGGREGATE_LABEL = 'rbac.crossplane.io/aggregate-to-crossplane';
/** What Crossplane's composition engine does to a composed object (server-side apply, GC, watches). */
const CROSSPLANE_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

/**
 * Kubernetes' default plural for a kind (lower case, "y" → "ies", else "s"): what every CRD
 * pgplane composes uses. Kept simple on purpose; an irregular plural would fail the live suite.
 */
function resourceOf(kind: string): string {
  const lower = kind.toLowerCase();
  if (lower.endsWith('y')) return `${lower.slice(0, -1)}ies`;
  if (lower.endsWith('s')) return `${lower}es`;
  return `${lower}s`;
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
}

interface Rule {
  groups: string[];
  resources: string[];
  verbs: string[];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The rules of every ClusterRole in the file that aggregates into Crossplane's role. */
function aggregatedRules(objects: readonly JsonObject[]): Rule[] {
  return objects
    .filter((o) => o['kind'] === 'ClusterRole')
    .filter((o) => getString(o, 'metadata', 'labels', AGGREGATE_LABEL) === 'true')
    .flatMap((o) => {
      const rules = getPath(o, 'rules');
      return Array.isArray(rules) ? rules.filter(isObject) : [];
    })
    .map((r) => ({
      groups: strings(r['apiGroups']),
      resources: strings(r['resources']),
      verbs: strings(r['verbs']),
    }));
}

/** The verbs the rules grant on (group, resource), with "*" expanded to everything asked about. */
function grantedVerbs(rules: readonly Rule[], group: string, resource: string): string[] {
  const verbs = new Set<string>();
  for (const rule of rules) {
    if (!rule.groups.includes(group) && !rule.groups.includes('*')) continue;
    if (!rule.resources.includes(resource) && !rule.resources.includes('*')) continue;
    for (const verb of rule.verbs) {
      if (verb === '*') CROSSPLANE_VERBS.forEach((v) => verbs.add(v));
      else verbs.add(verb);
    }
  }
  return [...verbs];
}

/** "group/resource" of every object any example composes. */
function composedResources(): Set<string> {
  const found = new Set<string>();
  for (const example of exampleCases()) {
    const inputs = [
      example.request.input ?? {},
      { ...(example.request.input ?? {}), roleManagement: 'DatabaseRole' },
    ];
    for (const input of inputs) {
      const { objects } = render({ ...example.request, input });
      // objects[0] is the XR itself; the rest are what Crossplane applies.
      for (const object of objects.slice(1)) {
        const apiVersion = getString(object, 'apiVersion') ?? '';
        const kind = getString(object, 'kind') ?? '';
        found.add(`${groupOf(apiVersion)}/${resourceOf(kind)}`);
      }
    }
  }
  return found;
}

describe(`${AGGREGATE_FILE} covers everything pgplane composes`, () => {
  const rules = aggregatedRules(readObjects(AGGREGATE_FILE));
  const composed = composedResources();

  it('finds every kind the function composes (the check below is not vacuous)', () => {
    expect([...composed].sort()).toEqual(
      expect.arrayContaining([
        '/secrets',
        'barmancloud.cnpg.io/objectstores',
        'external-secrets.io/externalsecrets',
        'grants.pgplane.io/grants',
        'grants.pgplane.io/providerconfigs',
        'monitoring.coreos.com/podmonitors',
        'monitoring.coreos.com/prometheusrules',
        'networking.k8s.io/networkpolicies',
        'postgresql.cnpg.io/clusters',
        'postgresql.cnpg.io/databaseroles',
        'postgresql.cnpg.io/databases',
        'postgresql.cnpg.io/poolers',
        'postgresql.cnpg.io/scheduledbackups',
      ]),
    );
  });

  it.each([...composed].sort())('grants Crossplane every verb it uses on %s', (groupResource) => {
    const [group = '', resource = ''] = groupResource.split('/');
    const missing = CROSSPLANE_VERBS.filter((verb) => !grantedVerbs(rules, group, resource).includes(verb));
    expect(
      missing,
      `add {apiGroups: ['${group}'], resources: [${resource}], verbs: [${CROSSPLANE_VERBS.join(', ')}]} ` +
        `to a ClusterRole labelled ${AGGREGATE_LABEL}: "true" in ${AGGREGATE_FILE}`,
    ).toEqual([]);
  });

  it('guesses plurals the way Kubernetes does', () => {
    expect(['NetworkPolicy', 'PrometheusRule', 'Secret', 'ExternalSecret'].map(resourceOf)).toEqual([
      'networkpolicies',
      'prometheusrules',
      'secrets',
      'externalsecrets',
    ]);
  });
});
