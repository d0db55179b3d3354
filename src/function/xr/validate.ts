// The one validation pass at the boundary: an observed XR and the platform's Input in, either a
// spec the composition can trust or every problem at once. Everything a claim can get wrong, or
// ask for beyond what the platform offers, is refused here; planning and composing have no error
// path of their own.
import type { FunctionInput } from '../../api/function-input.js';
import {
  CROSSPLANE_SPEC_FIELDS,
  FIELD_EXAMPLES,
  postgresInstanceSpecSchema,
} from '../../api/postgres-instance.js';
import type { PostgresInstanceSpec } from '../../api/postgres-instance.js';
import { clusterNameProblem, namespaceNameProblem } from '../../api/names.js';
import { getObject } from '../../shared/json.js';
import { composedNames } from '../compose/names.js';
import { accessErrors } from './access.js';
import { fieldErrors, type FieldError } from './errors.js';
import { instanceName, readIdentity, type XrIdentity } from './identity.js';
import { reservedSecretErrors, roleNameErrors, secretCollisionErrors } from './names.js';
import { platformErrors, resolveCredentials, type CredentialsSource } from './policy.js';

export type ValidatedXr =
  | {
      ok: true;
      identity: XrIdentity;
      spec: PostgresInstanceSpec;
      credentials: CredentialsSource;
      warnings: string[];
    }
  | { ok: false; identity: XrIdentity; errors: FieldError[] };

const KNOWN_FIELDS = Object.keys(postgresInstanceSpecSchema.shape);

export function validateXr(xr: unknown, input: FunctionInput): ValidatedXr {
  const identity = readIdentity(xr);
  const errors = identityErrors(identity);
  const spec = getObject(xr, 'spec');
  if (!spec) {
    errors.push({
      field: 'spec',
      problem: 'is required',
      example: 'spec: {version: "16", storageGB: 20, databaseName: app, databaseOwner: app}',
    });
    return { ok: false, identity, errors };
  }
  const parsed = postgresInstanceSpecSchema.safeParse(spec);
  if (!parsed.success) {
    errors.push(...fieldErrors(parsed.error.issues, spec, { prefix: 'spec', examples: FIELD_EXAMPLES }));
  }
  // What the platform refuses, also when the schema failed, so one render names every problem.
  const named = new Set(errors.map((e) => e.field));
  errors.push(...platformErrors(spec, input).filter((e) => !named.has(e.field)));
  if (!parsed.success) return { ok: false, identity, errors };

  const credentials = resolveCredentials(identity, parsed.data, input);
  if (!credentials.ok) errors.push(...credentials.errors);
  const names = composedNames(instanceName(identity), parsed.data);
  errors.push(
    ...roleNameErrors(names),
    ...accessErrors(parsed.data),
    ...secretCollisionErrors(names),
    ...reservedSecretErrors(names, instanceName(identity), input),
  );
  errors.push(...protectionErrors(parsed.data, input));
  errors.push(...restoreErrors(identity, parsed.data));
  if (!credentials.ok || errors.length > 0) return { ok: false, identity, errors };
  return {
    ok: true,
    identity,
    spec: parsed.data,
    credentials: credentials.source,
    warnings: unknownFieldWarnings(spec),
  };
}

/** An instance cannot be created from its own backups: it has none before it exists. */
function restoreErrors(identity: XrIdentity, spec: PostgresInstanceSpec): FieldError[] {
  if (spec.restore?.from !== instanceName(identity)) return [];
  return [
    {
      field: 'spec.restore.from',
      problem: `names this instance itself ("${spec.restore.from}"); a restore creates a new instance from the backups of another one`,
      example: `metadata: {name: ${spec.restore.from}-restored}, spec: {restore: {from: ${spec.restore.from}}}`,
    },
  ];
}

/**
 * A platform may require deletion protection (its Input's deletionProtection.required): then a
 * claim cannot switch it off, and deleting an instance takes the platform team.
 */
function protectionErrors(spec: PostgresInstanceSpec, input: FunctionInput): FieldError[] {
  if (spec.deletionProtection !== false || !input.deletionProtection?.required) return [];
  return [
    {
      field: 'spec.deletionProtection',
      problem:
        "is false, but this platform requires deletion protection for every instance (the Composition's Input sets deletionProtection.required); ask the platform team to delete this instance",
      example: 'deletionProtection: true',
    },
  ];
}

function identityErrors(identity: XrIdentity): FieldError[] {
  const errors: FieldError[] = [];
  if (!identity.name) {
    errors.push({
      field: 'metadata.name',
      problem: 'is required',
      example: 'metadata: {name: agent-executor}',
    });
    return errors;
  }
  if (!identity.namespace) {
    errors.push({
      field: 'metadata.namespace',
      problem:
        'is missing: a namespaced XR needs a namespace, and a legacy cluster-scoped XR must be created through its claim (the claim gives the namespace)',
      example: 'metadata: {name: agent-executor, namespace: databases}',
    });
  } else {
    // The API server checks this; render and a hostile request do not, and the namespace reaches
    // endpoints and External Secrets templates.
    const problem = namespaceNameProblem(identity.namespace);
    if (problem) {
      errors.push({
        field: identity.claim ? 'metadata.namespace (of the claim)' : 'metadata.namespace',
        problem: `${JSON.stringify(identity.namespace)} ${problem}`,
        example: 'metadata: {name: agent-executor, namespace: databases}',
      });
    }
  }
  const problem = clusterNameProblem(instanceName(identity));
  if (problem) {
    errors.push({
      field: identity.claim ? 'metadata.name (of the claim)' : 'metadata.name',
      problem: `"${instanceName(identity)}" ${problem}`,
      example: 'metadata: {name: agent-executor}',
    });
  }
  return errors;
}

/** Typos in a claim are silently pruned by Kubernetes; in render they would vanish too. Say so instead. */
function unknownFieldWarnings(spec: Record<string, unknown>): string[] {
  return Object.keys(spec)
    .filter((key) => !KNOWN_FIELDS.includes(key) && !CROSSPLANE_SPEC_FIELDS.has(key))
    .map((key) => {
      const suggestion = closest(key, KNOWN_FIELDS);
      return `spec.${key} is not a PostgresInstance field and is ignored${suggestion ? ` (did you mean spec.${suggestion}?)` : ''}`;
    });
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= 3 && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
