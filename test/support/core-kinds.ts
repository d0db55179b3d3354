// Core Kubernetes kinds have no CRD. They are checked with kubernetes-models (types and formats,
// from the Kubernetes OpenAPI) plus closed lists of the fields pgplane writes, so an unknown or
// misspelt field fails instead of being pruned by the API server.
import { Secret, ServiceAccount } from 'kubernetes-models/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { isObject, type JsonObject } from '../../src/shared/json.js';

interface CoreKind {
  /** Top-level fields, from the Kubernetes API reference. */
  fields: ReadonlySet<string>;
  /** Fields of spec, where the kind has one. */
  specFields?: ReadonlySet<string>;
  validate: (manifest: JsonObject) => void;
}

const CORE_KINDS: Readonly<Record<string, CoreKind>> = {
  'v1/Secret': {
    fields: new Set(['apiVersion', 'kind', 'metadata', 'data', 'stringData', 'type', 'immutable']),
    validate: (manifest) => new Secret(manifest).validate(),
  },
  // Generated credentials: the reader the connection ExternalSecrets copy passwords through.
  'v1/ServiceAccount': {
    fields: new Set([
      'apiVersion',
      'kind',
      'metadata',
      'automountServiceAccountToken',
      'imagePullSecrets',
      'secrets',
    ]),
    validate: (manifest) => new ServiceAccount(manifest).validate(),
  },
  'rbac.authorization.k8s.io/v1/Role': {
    fields: new Set(['apiVersion', 'kind', 'metadata', 'rules']),
    validate: (manifest) => new Role(manifest).validate(),
  },
  'rbac.authorization.k8s.io/v1/RoleBinding': {
    fields: new Set(['apiVersion', 'kind', 'metadata', 'roleRef', 'subjects']),
    validate: (manifest) =>
      new RoleBinding(manifest as unknown as ConstructorParameters<typeof RoleBinding>[0]).validate(),
  },
  'networking.k8s.io/v1/NetworkPolicy': {
    fields: new Set(['apiVersion', 'kind', 'metadata', 'spec']),
    specFields: new Set(['podSelector', 'policyTypes', 'ingress', 'egress']),
    validate: (manifest) => new NetworkPolicy(manifest).validate(),
  },
};

function kindKey(manifest: JsonObject): string {
  return `${String(manifest.apiVersion)}/${String(manifest.kind)}`;
}

export function isCoreKind(manifest: JsonObject): boolean {
  return kindKey(manifest) in CORE_KINDS;
}

export function validateCoreKind(manifest: JsonObject): string[] {
  const kind = CORE_KINDS[kindKey(manifest)];
  if (!kind) return [`${kindKey(manifest)} is not a known core kind`];
  const problems = Object.keys(manifest)
    .filter((key) => !kind.fields.has(key))
    .map((key) => `/${key} is not a field of ${String(manifest.kind)}`);
  if (kind.specFields && isObject(manifest.spec)) {
    problems.push(
      ...Object.keys(manifest.spec)
        .filter((key) => !kind.specFields?.has(key))
        .map((key) => `/spec/${key} is not a field of ${String(manifest.kind)}`),
    );
  }
  try {
    kind.validate(manifest);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  return problems;
}
