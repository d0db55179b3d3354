// Invariants every composed set must hold, whatever the claim said, checked before any response
// leaves the function. Validation is meant to make them impossible to break; this is the check
// that a future builder, or a validation gap, cannot turn into two objects writing one Secret, an
// object in another team's namespace, or a template a claim wrote.
import {
  clusterNameProblem,
  labelKeyProblem,
  LABEL_VALUE_PATTERN,
  objectNameProblem,
} from '../../api/names.js';
import { getObject, getString, type JsonObject } from '../../shared/json.js';
import { PASSWORD_PLACEHOLDERS } from './credentials.js';
import type { Composition } from './composition-builder.js';

const labelValue = new RegExp(LABEL_VALUE_PATTERN);

/**
 * The one cluster-scoped kind pgplane composes: a legacy XR's deletion protection, the deprecated
 * Usage, which is cluster-scoped and names only the (cluster-scoped) XR itself (usages.ts).
 */
const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set(['apiextensions.crossplane.io/Usage']);

/** What is wrong with the composed set, one sentence each; empty when it holds every invariant. */
export function checkInvariants(namespace: string, composition: Composition): string[] {
  const broken: string[] = [];
  const byKindAndName = new Map<string, string>();
  const secretWriters = new Map<string, string>();
  const claimSecret = (name: string, writer: string) => {
    const previous = secretWriters.get(name);
    if (previous) broken.push(`Secret ${namespace}/${name} written by both ${previous} and ${writer}`);
    else secretWriters.set(name, writer);
  };

  for (const [key, { resource }] of Object.entries(composition.resources)) {
    const kind = getString(resource, 'kind') ?? '';
    const group = (getString(resource, 'apiVersion') ?? '').split('/').slice(0, -1).join('/');
    const name = getString(resource, 'metadata', 'name') ?? '';
    const what = `${kind} ${name} (resource "${key}")`;

    const nameProblem = kind === 'Cluster' ? clusterNameProblem(name) : objectNameProblem(name);
    if (nameProblem) broken.push(`${what} whose name ${nameProblem}`);
    const objectNamespace = getString(resource, 'metadata', 'namespace');
    const clusterScoped = CLUSTER_SCOPED_KINDS.has(`${group}/${kind}`);
    if (clusterScoped ? objectNamespace !== undefined : objectNamespace !== namespace)
      broken.push(`${what} in namespace ${String(objectNamespace)}, not the XR's ${namespace}`);

    const identity = `${group}/${kind}/${name}`;
    const twin = byKindAndName.get(identity);
    if (twin) broken.push(`${what} twice (also resource "${twin}")`);
    else byKindAndName.set(identity, key);

    broken.push(...labelProblems(what, getObject(resource, 'metadata', 'labels')));
    if (kind === 'Secret' && group === '') claimSecret(name, what);
    if (kind === 'ExternalSecret') {
      claimSecret(getString(resource, 'spec', 'target', 'name') ?? name, what);
      broken.push(...templateProblems(what, getObject(resource, 'spec', 'target', 'template', 'data')));
    }
  }
  return broken;
}

function labelProblems(what: string, labels: JsonObject | undefined): string[] {
  return Object.entries(labels ?? {}).flatMap(([key, value]) => {
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) return [`${what} with label key ${JSON.stringify(key)}, which ${keyProblem}`];
    if (typeof value !== 'string' || value.length > 63 || !labelValue.test(value))
      return [`${what} with label ${key} = ${JSON.stringify(value)}, which is not a label value`];
    return [];
  });
}

/**
 * External Secrets renders `template.data` as Go templates. The only template actions in it are
 * pgplane's own password placeholders; any other `{{` would be text a claim smuggled in.
 */
function templateProblems(what: string, data: JsonObject | undefined): string[] {
  return Object.entries(data ?? {}).flatMap(([key, value]) => {
    if (typeof value !== 'string') return [`${what} with a non-text template value for ${key}`];
    let literal = value;
    for (const placeholder of PASSWORD_PLACEHOLDERS) literal = literal.replaceAll(placeholder, '');
    return literal.includes('{{') || literal.includes('}}') || !isPrintable(literal)
      ? [
          `${what} whose template value ${key} holds template syntax or control characters besides pgplane's placeholders`,
        ]
      : [];
  });
}

function isPrintable(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u001f\u007f]/.test(text);
}
