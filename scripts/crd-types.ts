// TypeScript types for the upstream kinds pgplane composes, generated from the CRDs in ../shared/crds
// (plain upstream copies, whose README names each file's repository and tag). The builders in
// src/function/compose return these types, so a field the CRD does not have, or a value of the wrong
// type, fails `tsc` instead of the conformance suite. scripts/generate-crd-types.ts writes the files;
// test/conformance/crd-types.test.ts fails when the committed ones differ from a regeneration.
//
// json-schema-to-typescript turns the JSON Schema into declarations; this module first translates a
// CRD's OpenAPI v3 schema into the JSON Schema that says what the API server accepts: structural
// schemas prune unknown fields (so objects are closed unless x-kubernetes-preserve-unknown-fields),
// x-kubernetes-int-or-string is `number | string`, `nullable` admits null, and a keyword it does not
// know stops the generation rather than being dropped silently.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, type JSONSchema } from 'json-schema-to-typescript';
import { format, resolveConfig } from 'prettier';
import { parse } from 'yaml';
import { getPath, isObject, type JsonObject } from '../src/shared/json.js';

/** The repository root; generated paths are relative to it. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CRD_TYPES_DIR = 'src/function/compose/upstream';
/** shared/ sits beside the clone (as CI lays it out). */
export const SHARED_CRDS_DIR = join(REPO_ROOT, '..', 'shared', 'crds');
const GENERATOR = 'scripts/generate-crd-types.ts';

export interface KindSpec {
  /** Module name in CRD_TYPES_DIR, without `.ts`. */
  module: string;
  /** The CRD's file in ../shared/crds. */
  crd: string;
  /** Name of the exported root type. */
  typeName: string;
  /** Served versions the type stands for; their schemas must be identical. Default: the storage version. */
  versions?: string[];
  /**
   * Exported names for sub-schemas the builders name in their signatures, by path: property names
   * joined by dots, `[]` for an array's items, `{}` for a map's values. Upstream's Go type names.
   */
  names?: Record<string, string>;
}

/** Every kind pgplane composes, or will compose this round. */
export const KINDS: readonly KindSpec[] = [
  {
    module: 'cnpg-cluster',
    crd: 'clusters.postgresql.cnpg.io.yaml',
    typeName: 'Cluster',
    names: {
      spec: 'ClusterSpec',
      'spec.affinity': 'AffinityConfiguration',
      'spec.bootstrap': 'BootstrapConfiguration',
      'spec.bootstrap.recovery': 'BootstrapRecovery',
      'spec.bootstrap.recovery.recoveryTarget': 'RecoveryTarget',
      'spec.externalClusters[]': 'ExternalCluster',
      'spec.managed.roles[]': 'RoleConfiguration',
      'spec.plugins[]': 'PluginConfiguration',
      'spec.storage': 'StorageConfiguration',
    },
  },
  {
    module: 'cnpg-pooler',
    crd: 'poolers.postgresql.cnpg.io.yaml',
    typeName: 'Pooler',
    names: { spec: 'PoolerSpec', 'spec.pgbouncer': 'PgBouncerSpec' },
  },
  {
    module: 'cnpg-scheduled-backup',
    crd: 'scheduledbackups.postgresql.cnpg.io.yaml',
    typeName: 'ScheduledBackup',
    names: { spec: 'ScheduledBackupSpec' },
  },
  {
    module: 'cnpg-backup',
    crd: 'backups.postgresql.cnpg.io.yaml',
    typeName: 'Backup',
    names: { spec: 'BackupSpec' },
  },
  {
    module: 'cnpg-database',
    crd: 'databases.postgresql.cnpg.io.yaml',
    typeName: 'Database',
    names: { spec: 'DatabaseSpec' },
  },
  {
    module: 'cnpg-database-role',
    crd: 'databaseroles.postgresql.cnpg.io.yaml',
    typeName: 'DatabaseRole',
    names: { spec: 'DatabaseRoleSpec' },
  },
  {
    module: 'barman-cloud-object-store',
    crd: 'objectstores.barmancloud.cnpg.io.yaml',
    typeName: 'ObjectStore',
    names: {
      spec: 'ObjectStoreSpec',
      'spec.configuration': 'BarmanObjectStoreConfiguration',
      'spec.configuration.s3Credentials': 'S3Credentials',
    },
  },
  {
    module: 'eso-external-secret',
    crd: 'externalsecrets.external-secrets.io.yaml',
    typeName: 'ExternalSecret',
    names: {
      spec: 'ExternalSecretSpec',
      'spec.data[]': 'ExternalSecretData',
      'spec.dataFrom[]': 'ExternalSecretDataFromRemoteRef',
      'spec.target': 'ExternalSecretTarget',
    },
  },
  {
    module: 'eso-secret-store',
    crd: 'secretstores.external-secrets.io.yaml',
    typeName: 'SecretStore',
    names: {
      spec: 'SecretStoreSpec',
      'spec.provider': 'SecretStoreProvider',
      'spec.provider.kubernetes': 'KubernetesProvider',
    },
  },
  {
    module: 'eso-password',
    crd: 'passwords.generators.external-secrets.io.yaml',
    typeName: 'Password',
    names: { spec: 'PasswordSpec' },
  },
  {
    module: 'eso-push-secret',
    crd: 'pushsecrets.external-secrets.io.yaml',
    typeName: 'PushSecret',
    names: { spec: 'PushSecretSpec', 'spec.data[]': 'PushSecretData' },
  },
  {
    module: 'prometheus-pod-monitor',
    crd: 'podmonitors.monitoring.coreos.com.yaml',
    typeName: 'PodMonitor',
    names: { spec: 'PodMonitorSpec', 'spec.podMetricsEndpoints[]': 'PodMetricsEndpoint' },
  },
  {
    module: 'prometheus-rule',
    crd: 'prometheusrules.monitoring.coreos.com.yaml',
    typeName: 'PrometheusRule',
    names: { spec: 'PrometheusRuleSpec', 'spec.groups[]': 'RuleGroup', 'spec.groups[].rules[]': 'Rule' },
  },
  {
    module: 'crossplane-usage',
    crd: 'usages.protection.crossplane.io.yaml',
    typeName: 'Usage',
    names: { spec: 'UsageSpec' },
  },
  {
    // Crossplane v1's Usage (a legacy XR's composition runs on Crossplane 1.x): both served
    // versions have the same schema, so one type stands for either apiVersion.
    module: 'crossplane-legacy-usage',
    crd: 'usages.apiextensions.crossplane.io.yaml',
    typeName: 'LegacyUsage',
    versions: ['v1alpha1', 'v1beta1'],
    names: { spec: 'LegacyUsageSpec' },
  },
];

/**
 * The ObjectMeta type of kubernetes-models (whose core kinds the builders use too): controller-gen
 * writes an embedded metav1.ObjectMeta as a bare `type: object`.
 */
const OBJECT_META = 'ObjectMeta';
const OBJECT_META_IMPORT = `import type { IObjectMeta as ${OBJECT_META} } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';`;

/** Keywords that only constrain values (checked by the API server, not expressible as a type). */
const VALIDATION_ONLY = new Set([
  'default',
  'example',
  'exclusiveMaximum',
  'exclusiveMinimum',
  'format',
  'maxItems',
  'maxLength',
  'maxProperties',
  'maximum',
  'minItems',
  'minLength',
  'minProperties',
  'minimum',
  'multipleOf',
  'pattern',
  'uniqueItems',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
]);
const TRANSLATED = new Set([
  'additionalProperties',
  'allOf',
  'anyOf',
  'description',
  'enum',
  'items',
  'not',
  'nullable',
  'oneOf',
  'properties',
  'required',
  'type',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
]);
const SCALARS = ['boolean', 'integer', 'number', 'string'] as const;

function isScalar(type: unknown): type is (typeof SCALARS)[number] {
  return SCALARS.some((scalar) => scalar === type);
}

type EnumValue = string | number | boolean | null;

function isEnumValue(value: unknown): value is EnumValue {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/** One CRD version's schema, translated node by node; `path` names the node in errors and `names`. */
class Translation {
  private readonly unusedNames: Set<string>;

  constructor(
    private readonly source: string,
    private readonly names: Record<string, string>,
  ) {
    this.unusedNames = new Set(Object.keys(names));
  }

  /** Paths in `names` that matched no schema: a typo, or upstream moved the field. */
  unmatchedNames(): string[] {
    return [...this.unusedNames].sort();
  }

  fail(path: string, problem: string): never {
    throw new Error(`${this.source}: ${path || '<root>'}: ${problem}`);
  }

  schema(node: unknown, path: string, key: string): JSONSchema {
    if (!isObject(node)) this.fail(path, 'a schema must be an object');
    for (const keyword of Object.keys(node)) {
      if (!TRANSLATED.has(keyword) && !VALIDATION_ONLY.has(keyword))
        this.fail(path, `unsupported keyword "${keyword}": teach ${GENERATOR} what it means`);
    }
    const out: JSONSchema = {};
    if (typeof node.description === 'string') out.description = node.description;
    const name = this.names[path];
    if (name) {
      out.title = name;
      this.unusedNames.delete(path);
    }
    const body = this.body(node, path, key);
    const typed = { ...out, ...body };
    return node.nullable === true ? { ...out, anyOf: [body, { type: 'null' }] } : typed;
  }

  private body(node: JsonObject, path: string, key: string): JSONSchema {
    if (node['x-kubernetes-int-or-string'] === true) return { tsType: 'number | string' };
    this.refuseTypedCombinators(node, path);
    const preserve = node['x-kubernetes-preserve-unknown-fields'] === true;
    const enumValues = Array.isArray(node.enum) ? { enum: node.enum.filter(isEnumValue) } : {};
    const { type } = node;
    if (type === undefined) {
      if (preserve) return { tsType: 'unknown' };
      return this.fail(path, 'a schema without a type');
    }
    if (isScalar(type)) return { type, ...enumValues };
    if (type === 'array') {
      if (node.items === undefined) return { type: 'array', items: { tsType: 'unknown' } };
      return { type: 'array', items: this.schema(node.items, `${path}[]`, key) };
    }
    if (type !== 'object') return this.fail(path, `unsupported type ${JSON.stringify(type)}`);
    return this.object(node, path, key, preserve);
  }

  private object(node: JsonObject, path: string, key: string, preserve: boolean): JSONSchema {
    const { properties, additionalProperties } = node;
    const values =
      preserve || additionalProperties === true
        ? true
        : isObject(additionalProperties)
          ? this.schema(additionalProperties, `${path}{}`, key)
          : false;
    if (isObject(properties)) {
      const translated: Record<string, JSONSchema> = {};
      for (const name of Object.keys(properties).sort()) {
        translated[name] = this.schema(properties[name], path ? `${path}.${name}` : name, name);
      }
      const required = Array.isArray(node.required)
        ? node.required.filter((r): r is string => typeof r === 'string').sort()
        : [];
      return {
        type: 'object',
        properties: translated,
        ...(required.length > 0 ? { required } : {}),
        additionalProperties: values,
      };
    }
    if (values !== false) return { type: 'object', additionalProperties: values };
    // An object with neither properties nor values: the API server prunes whatever is put in it.
    return { tsType: key === 'metadata' ? OBJECT_META : 'Record<string, never>' };
  }

  /**
   * allOf/anyOf/oneOf/not in these CRDs only add validation (e.g. "one of these fields is
   * required"); one that introduces a type would change the shape and needs a translation of its own.
   */
  private refuseTypedCombinators(node: JsonObject, path: string): void {
    for (const keyword of ['allOf', 'anyOf', 'oneOf', 'not']) {
      const value = node[keyword];
      if (value === undefined) continue;
      const branches = Array.isArray(value) ? value : [value];
      for (const branch of branches) {
        if (!isObject(branch) || Object.keys(branch).some((k) => k !== 'required' && k !== 'not'))
          this.fail(path, `${keyword} with more than "required" in a branch: teach ${GENERATOR} its shape`);
      }
    }
  }
}

interface CrdVersion {
  name: string;
  schema: JsonObject;
}

function servedVersions(crd: unknown, source: string): Map<string, CrdVersion & { storage: boolean }> {
  const versions = getPath(crd, 'spec', 'versions');
  if (!Array.isArray(versions)) throw new Error(`${source}: spec.versions is not a list`);
  const out = new Map<string, CrdVersion & { storage: boolean }>();
  for (const version of versions) {
    const name = getPath(version, 'name');
    const schema = getPath(version, 'schema', 'openAPIV3Schema');
    if (getPath(version, 'served') !== true || typeof name !== 'string' || !isObject(schema)) continue;
    out.set(name, { name, schema, storage: getPath(version, 'storage') === true });
  }
  return out;
}

/** The root schema of a kind: apiVersion and kind as literals, metadata as ObjectMeta, no status. */
function rootSchema(kind: KindSpec, crd: unknown): JSONSchema {
  const source = kind.crd;
  const group = getPath(crd, 'spec', 'group');
  const crdKind = getPath(crd, 'spec', 'names', 'kind');
  if (typeof group !== 'string' || typeof crdKind !== 'string')
    throw new Error(`${source}: spec.group or spec.names.kind is missing`);
  const served = servedVersions(crd, source);
  const wanted = kind.versions ?? [...served.values()].filter((v) => v.storage).map((v) => v.name);
  const versions = wanted.map((name) => {
    const version = served.get(name);
    if (!version) throw new Error(`${source}: version ${name} is not served`);
    return version;
  });
  const [first, ...others] = versions;
  if (!first) throw new Error(`${source}: no served storage version`);
  for (const other of others) {
    if (JSON.stringify(other.schema) !== JSON.stringify(first.schema))
      throw new Error(`${source}: versions ${first.name} and ${other.name} differ; give each its own type`);
  }

  const translation = new Translation(source, kind.names ?? {});
  const { status: _status, ...properties } = isObject(first.schema.properties) ? first.schema.properties : {};
  const translated = translation.schema({ ...first.schema, properties }, '', '');
  const unmatched = translation.unmatchedNames();
  if (unmatched.length > 0) throw new Error(`${source}: no schema at ${unmatched.join(', ')}`);
  const apiVersions = versions.map((v) => `${group}/${v.name}`);
  return {
    ...translated,
    properties: {
      ...translated.properties,
      apiVersion: { description: `${crdKind}'s API version.`, type: 'string', enum: apiVersions },
      kind: { type: 'string', enum: [crdKind] },
      metadata: { tsType: OBJECT_META },
    },
    required: [
      ...new Set([...(asStrings(translated.required) ?? []), 'apiVersion', 'kind', 'metadata']),
    ].sort(),
  };
}

function asStrings(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
}

export interface Provenance {
  repository: string;
  tag: string;
  path: string;
}

/** Each CRD file's repository, tag and original path, from the table in ../shared/crds/README.md. */
function provenance(crdsDir: string): Map<string, Provenance> {
  const out = new Map<string, Provenance>();
  for (const line of readFileSync(join(crdsDir, 'README.md'), 'utf8').split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    // | `file` | Kind | Versions | [owner/name](url) | `tag` | `commit` | `path` | note |
    const file = /^`([^`]+\.yaml)`$/.exec(cells[1] ?? '')?.[1];
    const repository = /^\[([^\]]+)\]/.exec(cells[4] ?? '')?.[1];
    const tag = /^`([^`]+)`$/.exec(cells[5] ?? '')?.[1];
    const path = /^`([^`]+)`$/.exec(cells[7] ?? '')?.[1];
    if (file && repository && tag && path) out.set(file, { repository, tag, path });
  }
  return out;
}

function header(kind: KindSpec, origin: Provenance, apiVersions: string[]): string {
  return [
    `// ${kind.typeName}: ${apiVersions.join(', ')}.`,
    `// From ${kind.crd}, the CRD of ${origin.repository} ${origin.tag}`,
    `// (${origin.path}).`,
    '// Without status: a builder writes the desired state, the controller the status.',
    `// Generated by ${GENERATOR}; do not edit. Regenerate with \`npm run generate:types\`.`,
    '',
  ].join('\n');
}

/** The module of one kind, formatted as the repository formats TypeScript. */
export async function kindModule(kind: KindSpec, crd: unknown, origin: Provenance): Promise<string> {
  const schema = rootSchema(kind, crd);
  const declarations = await compile(schema, kind.typeName, {
    bannerComment: '',
    additionalProperties: false,
    unknownAny: true,
    maxItems: -1,
    format: false,
    declareExternallyReferenced: true,
  });
  const apiVersions = asStrings(getPath(schema, 'properties', 'apiVersion', 'enum')) ?? [];
  const imports = declarations.includes(OBJECT_META) ? `${OBJECT_META_IMPORT}\n\n` : '';
  const text = `${header(kind, origin, apiVersions)}${imports}${declarations}`;
  const filepath = join(REPO_ROOT, CRD_TYPES_DIR, `${kind.module}.ts`);
  const options = (await resolveConfig(filepath)) ?? {};
  return format(text, { ...options, filepath });
}

/** The generated modules, path (relative to the repository root) to text, from the CRDs in crdsDir. */
export async function generateCrdTypes(crdsDir: string = SHARED_CRDS_DIR): Promise<Record<string, string>> {
  const origins = provenance(crdsDir);
  const files: Record<string, string> = {};
  for (const kind of KINDS) {
    const origin = origins.get(kind.crd);
    if (!origin) throw new Error(`${crdsDir}/README.md has no row for ${kind.crd}`);
    const crd: unknown = parse(readFileSync(join(crdsDir, kind.crd), 'utf8'));
    files[`${CRD_TYPES_DIR}/${kind.module}.ts`] = await kindModule(kind, crd, origin);
  }
  return files;
}
