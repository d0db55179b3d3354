// The APIs pgplane publishes, as generated Kubernetes objects: the PostgresInstance XRDs
// (namespaced v2 and legacy v1 with a claim), the PostgresDatabase XRD and the function Input CRD. scripts/generate-apis.ts
// writes them; a test fails when the committed YAML differs.
import { stringify } from 'yaml';
import type { JsonObject } from '../shared/json.js';
import { functionInputSchema, INPUT_API_VERSION, INPUT_KIND } from './function-input.js';
import { customResourceDefinition, toOpenApiSchema } from './openapi.js';
import { postgresDatabaseSpecSchema, postgresDatabaseStatusSchema } from './postgres-database.js';
import { postgresInstanceSpecSchema, postgresInstanceStatusSchema } from './postgres-instance.js';
import { providerCrdFiles } from './provider-config.js';

const XR_GROUP = 'database.pgplane.io';
const XR_VERSION = 'v1alpha1';

const DESCRIPTION =
  'A PostgreSQL database for one application: a CloudNativePG cluster, its owner credentials and the connection Secret applications read.';

const PRINTER_COLUMNS: JsonObject[] = [
  { name: 'Version', type: 'string', jsonPath: '.spec.version' },
  { name: 'Size', type: 'string', jsonPath: '.spec.size' },
  { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
  { name: 'Ready-Instances', type: 'integer', jsonPath: '.status.readyInstances' },
  { name: 'Endpoint', type: 'string', jsonPath: '.status.endpoint', priority: 1 },
];

/** Keys of the legacy claim's connection Secret (Crossplane v1 connection details). */
const CONNECTION_SECRET_KEYS = [
  'endpoint',
  'port',
  'database',
  'username',
  'password',
  'sslmode',
  'uri',
  'jdbc-uri',
];

function version(): JsonObject {
  return {
    name: XR_VERSION,
    served: true,
    referenceable: true,
    additionalPrinterColumns: PRINTER_COLUMNS,
    schema: {
      // Only spec and status: Crossplane adds apiVersion, kind, metadata and its own spec fields.
      openAPIV3Schema: {
        description: DESCRIPTION,
        type: 'object',
        properties: {
          spec: toOpenApiSchema(postgresInstanceSpecSchema),
          status: toOpenApiSchema(postgresInstanceStatusSchema),
        },
        required: ['spec'],
      },
    },
  };
}

function namespacedDefinition(): JsonObject {
  return {
    apiVersion: 'apiextensions.crossplane.io/v2',
    kind: 'CompositeResourceDefinition',
    metadata: { name: `postgresinstances.${XR_GROUP}` },
    spec: {
      group: XR_GROUP,
      names: {
        kind: 'PostgresInstance',
        plural: 'postgresinstances',
        categories: ['crossplane', 'pgplane'],
        shortNames: ['pgi'],
      },
      scope: 'Namespaced',
      defaultCompositionRef: { name: `postgresinstances.${XR_GROUP}` },
      versions: [version()],
    },
  };
}

function legacyDefinition(): JsonObject {
  return {
    apiVersion: 'apiextensions.crossplane.io/v1',
    kind: 'CompositeResourceDefinition',
    metadata: { name: `xpostgresinstances.${XR_GROUP}` },
    spec: {
      group: XR_GROUP,
      names: {
        kind: 'XPostgresInstance',
        plural: 'xpostgresinstances',
        categories: ['crossplane', 'pgplane'],
      },
      claimNames: {
        kind: 'PostgresInstance',
        plural: 'postgresinstances',
        categories: ['claim', 'pgplane'],
        shortNames: ['pgi'],
      },
      scope: 'LegacyCluster',
      connectionSecretKeys: CONNECTION_SECRET_KEYS,
      defaultCompositionRef: { name: `xpostgresinstances.${XR_GROUP}` },
      versions: [version()],
    },
  };
}

const DATABASE_DESCRIPTION =
  "One service's PostgreSQL database, its owner, roles and connection Secrets, on a shared PostgresInstance or a server the platform registered; isolated from every other database there.";

const DATABASE_PRINTER_COLUMNS: JsonObject[] = [
  { name: 'Database', type: 'string', jsonPath: '.status.databaseName' },
  { name: 'Backend', type: 'string', jsonPath: '.status.backend.kind' },
  { name: 'Backend-Name', type: 'string', jsonPath: '.status.backend.name' },
  { name: 'Endpoint', type: 'string', jsonPath: '.status.endpoint', priority: 1 },
];

function databaseVersion(): JsonObject {
  return {
    name: XR_VERSION,
    served: true,
    referenceable: true,
    additionalPrinterColumns: DATABASE_PRINTER_COLUMNS,
    schema: {
      openAPIV3Schema: {
        description: DATABASE_DESCRIPTION,
        type: 'object',
        properties: {
          spec: toOpenApiSchema(postgresDatabaseSpecSchema),
          status: toOpenApiSchema(postgresDatabaseStatusSchema),
        },
        required: ['spec'],
      },
    },
  };
}

function databaseDefinition(): JsonObject {
  return {
    apiVersion: 'apiextensions.crossplane.io/v2',
    kind: 'CompositeResourceDefinition',
    metadata: { name: `postgresdatabases.${XR_GROUP}` },
    spec: {
      group: XR_GROUP,
      names: {
        kind: 'PostgresDatabase',
        plural: 'postgresdatabases',
        categories: ['crossplane', 'pgplane'],
        shortNames: ['pgdb'],
      },
      scope: 'Namespaced',
      defaultCompositionRef: { name: `postgresdatabases.${XR_GROUP}` },
      versions: [databaseVersion()],
    },
  };
}

/** The Crossplane v1 form: a cluster-scoped XPostgresDatabase behind a namespaced PostgresDatabase claim. */
function legacyDatabaseDefinition(): JsonObject {
  return {
    apiVersion: 'apiextensions.crossplane.io/v1',
    kind: 'CompositeResourceDefinition',
    metadata: { name: `xpostgresdatabases.${XR_GROUP}` },
    spec: {
      group: XR_GROUP,
      names: {
        kind: 'XPostgresDatabase',
        plural: 'xpostgresdatabases',
        categories: ['crossplane', 'pgplane'],
      },
      claimNames: {
        kind: 'PostgresDatabase',
        plural: 'postgresdatabases',
        categories: ['claim', 'pgplane'],
        shortNames: ['pgdb'],
      },
      scope: 'LegacyCluster',
      connectionSecretKeys: CONNECTION_SECRET_KEYS,
      defaultCompositionRef: { name: `xpostgresdatabases.${XR_GROUP}` },
      versions: [databaseVersion()],
    },
  };
}

function inputDefinition(): JsonObject {
  const [group, version] = INPUT_API_VERSION.split('/') as [string, string];
  return customResourceDefinition({
    group,
    version,
    kind: INPUT_KIND,
    plural: 'inputs',
    scope: 'Cluster',
    categories: ['crossplane'],
    description:
      "pgplane's function Input: the platform's defaults for every PostgresInstance the Composition renders.",
    topLevel: functionInputSchema,
  });
}

/** Every generated file, by its path in the repository. */
export function generatedApiFiles(): Record<string, JsonObject> {
  return {
    'apis/namespaced/definition.yaml': namespacedDefinition(),
    'apis/legacy/definition.yaml': legacyDefinition(),
    'apis/namespaced/database-definition.yaml': databaseDefinition(),
    'apis/legacy/database-definition.yaml': legacyDatabaseDefinition(),
    'package/function/input/pgplane.fn.crossplane.io_inputs.yaml': inputDefinition(),
    ...providerCrdFiles(),
  };
}

const GENERATED_HEADER = '# Generated by `npm run generate` from the zod schemas in src/api. Do not edit.\n';

/** The exact text of a generated file: the header, then stable YAML. */
export function generatedFileText(object: JsonObject): string {
  // YAML 1.1 output quotes strings such as On, yes or n: Go's YAML reader (Crossplane's xpkg build,
  // kubectl) takes them for booleans, and a printer column named On made the package unbuildable.
  return `${GENERATED_HEADER}${stringify(object, { lineWidth: 0, version: '1.1' })}`;
}
