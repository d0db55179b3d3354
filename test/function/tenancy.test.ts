// A hostile tenant: claims written by a team the platform does not trust. Each case is a claim
// that, before pgplane had a tenancy model, rendered something the platform never offered (another
// team's password, ownership of pg_catalog, two writers of one Secret) or crashed the function.
// Now each is refused, naming the field and what the platform offers, or renders safely.
import { describe, expect, it } from 'vitest';
import { inputFrom } from '../../src/cli/render.js';
import { render } from '../../src/render/render.js';
import { getPath, getString, type JsonObject } from '../../src/shared/json.js';
import { readSingleObject } from '../../src/shared/yaml-files.js';

const standard = inputFrom(readSingleObject('apis/namespaced/composition.yaml'));
const production = inputFrom(readSingleObject('apis/namespaced/composition-production.yaml'));

const honest = {
  version: '16',
  storageGB: 10,
  databaseName: 'billing',
  databaseOwner: 'billing_owner',
};

function claim(spec: JsonObject, metadata: JsonObject = {}): JsonObject {
  return {
    apiVersion: 'database.pgplane.io/v1alpha1',
    kind: 'PostgresInstance',
    metadata: { name: 'billing', namespace: 'team-a', ...metadata },
    spec: { ...honest, ...spec },
  };
}

function renderClaim(spec: JsonObject, input: JsonObject = standard, metadata: JsonObject = {}) {
  return render({ xr: claim(spec, metadata), input });
}

function refusal(spec: JsonObject, input: JsonObject = standard, metadata: JsonObject = {}): string {
  const result = renderClaim(spec, input, metadata);
  expect(result.fatal, 'the claim should have been refused').toBeDefined();
  expect(Object.keys(result.response.desired?.resources ?? {})).toEqual([]);
  return result.fatal ?? '';
}

function composed(spec: JsonObject, input: JsonObject = standard): JsonObject[] {
  const result = renderClaim(spec, input);
  expect(result.fatal).toBeUndefined();
  return result.objects.slice(1);
}

describe('reserved PostgreSQL names', () => {
  it.each(['pg_catalog', 'information_schema', 'pg_toast', 'PG_CATALOG'])(
    'refuses spec.schemas: [%s], which would make the owner own a system schema',
    (schema) => {
      expect(refusal({ schemas: ['analytics', schema] })).toContain(`spec.schemas[1] "${schema}"`);
    },
  );

  it('refuses access entries that grant inside pg_catalog', () => {
    const message = refusal({
      access: [
        { role: 'reporting', tables: [{ schema: 'pg_catalog', objects: ['*'], privileges: ['SELECT'] }] },
      ],
    });
    expect(message).toContain('spec.access[0].tables[0].schema "pg_catalog" starts with "pg_"');
  });

  it.each(['postgres', 'template0', 'template1'])('refuses databaseName %s', (databaseName) => {
    expect(refusal({ databaseName })).toContain(
      `spec.databaseName "${databaseName}" is a database every PostgreSQL cluster already has`,
    );
  });

  it("refuses CloudNativePG's pooler role as a role name", () => {
    expect(refusal({ access: [{ role: 'cnpg_pooler_pgbouncer' }] })).toContain(
      'spec.access[0].role "cnpg_pooler_pgbouncer" is a reserved role name',
    );
  });
});

describe('secret stores and keys: the platform decides, the claim asks', () => {
  it("refuses a claim's remoteKey on the shared ClusterSecretStore (another team's password)", () => {
    const message = refusal({ credentials: { remoteKey: 'postgres/team-b/billing' } });
    expect(message).toContain(
      'spec.credentials.remoteKey is set, but this platform does not let claims choose keys in ClusterSecretStore "platform-secrets"',
    );
  });

  it("refuses a claim's passwordProperty on the shared store", () => {
    expect(refusal({ credentials: { passwordProperty: 'admin-password' } })).toContain(
      'spec.credentials.passwordProperty is set, but this platform does not let claims choose keys',
    );
  });

  it('refuses a ClusterSecretStore the platform does not offer, and says what it offers', () => {
    const message = refusal({
      credentials: { secretStoreRef: { name: 'vault-root', kind: 'ClusterSecretStore' } },
    });
    expect(message).toContain(
      'spec.credentials.secretStoreRef is ClusterSecretStore "vault-root", which this platform does not offer to claims; offered: ClusterSecretStore "platform-secrets" (the default), any SecretStore in the claim\'s namespace',
    );
  });

  it("takes the key from the template, filled with the claim's own namespace and name", () => {
    const credentials = composed({}).find((o) => getString(o, 'metadata', 'name') === 'billing-credentials');
    expect(getPath(credentials, 'spec', 'data', '0', 'remoteRef')).toEqual({
      key: 'postgres/team-a/billing',
      property: 'password',
    });
  });

  it("lets a claim name a key in its own namespace's SecretStore where the platform offers that", () => {
    const credentials = composed({
      credentials: { secretStoreRef: { name: 'team-vault', kind: 'SecretStore' }, remoteKey: 'team-a/db' },
    }).find((o) => getString(o, 'metadata', 'name') === 'billing-credentials');
    expect(getPath(credentials, 'spec', 'secretStoreRef')).toEqual({
      name: 'team-vault',
      kind: 'SecretStore',
    });
    expect(getPath(credentials, 'spec', 'data', '0', 'remoteRef', 'key')).toBe('team-a/db');
  });

  it('offers no SecretStore in the production Composition, which names none', () => {
    expect(
      refusal({ credentials: { secretStoreRef: { name: 'team-vault', kind: 'SecretStore' } } }, production),
    ).toContain('offered: ClusterSecretStore "platform-secrets" (the default)');
  });

  it('refuses an Input that would offer every ClusterSecretStore', () => {
    const input = {
      ...standard,
      claims: { secretStores: [{ kind: 'ClusterSecretStore', remoteKeys: true }] },
    };
    expect(refusal({}, input)).toContain(
      'input.claims.secretStores[0].name is required for a ClusterSecretStore',
    );
  });
});

describe('one writer per Secret', () => {
  it('refuses credentialsSecretName equal to connectionSecretName', () => {
    const message = refusal({
      credentialsSecretName: 'billing-db',
      connectionSecretName: 'billing-db',
      roles: { leastPrivilege: false },
    });
    expect(message).toContain(
      'spec.connectionSecretName makes "billing-db" both the owner role\'s credentials Secret (from spec.credentialsSecretName) and the owner role\'s connection Secret',
    );
  });

  it("refuses credentialsSecretName x-owner beside connectionSecretName x (the owner's connection Secret)", () => {
    const message = refusal({
      credentialsSecretName: 'billing-db-owner',
      connectionSecretName: 'billing-db',
    });
    expect(message).toContain('makes "billing-db-owner" both the owner role\'s credentials Secret');
  });

  it.each(['readonly', 'owner'])(
    'refuses an access role named %s, whose Secret another role already has',
    (role) => {
      const message = refusal({ access: [{ role }] });
      expect(message).toContain(`spec.access[0].role makes "billing-connection-${role}" both`);
    },
  );
});

describe('bounds: the API server and render refuse the same', () => {
  it('refuses 50,000 schemas without composing anything', () => {
    const schemas = Array.from({ length: 50_000 }, (_, i) => `s${i}`);
    expect(refusal({ schemas })).toContain('spec.schemas must be at most 64');
  });

  it("applies the platform's own lower limits", () => {
    const input = { ...standard, claims: { limits: { schemas: 2 } } };
    expect(refusal({ schemas: ['a', 'b', 'c'] }, input)).toContain(
      'spec.schemas has 3 entries; this platform allows at most 2',
    );
  });

  it("applies the platform's limits to lists inside a block", () => {
    const input = { ...standard, claims: { limits: { allowedNamespaces: 1 } } };
    expect(refusal({ networkPolicy: { allowedNamespaces: ['a', 'b'] } }, input)).toContain(
      'spec.networkPolicy.allowedNamespaces has 2 entries; this platform allows at most 1',
    );
  });

  it('refuses more than 32 access entries', () => {
    const access = Array.from({ length: 33 }, (_, i) => ({ role: `r${i}` }));
    expect(refusal({ access })).toContain('spec.access must be at most 32');
  });
});

describe('prototype keys and odd names never crash composing', () => {
  it('size: constructor (an Object.prototype key) is a size the platform does not offer', () => {
    expect(refusal({ size: 'constructor' })).toContain(
      'spec.size is "constructor", which this platform does not offer; available sizes: small, medium, large',
    );
  });

  it.each(['__proto__', 'toString', 'hasOwnProperty'])('refuses size: %s by name', (size) => {
    expect(refusal({ size })).toContain(`spec.size "${size}"`);
  });

  it('gives an access role ending in "_" object names the API server accepts', () => {
    const objects = composed({ access: [{ role: 'audit_' }, { role: '_audit' }] });
    for (const object of objects) {
      const name = getString(object, 'metadata', 'name') ?? '';
      expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
    }
    const names = objects.map((o) => `${String(o.kind)}/${getString(o, 'metadata', 'name')}`);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('network policy: nothing the API server would reject, leaving the database open', () => {
  it('refuses "*" as a namespace', () => {
    expect(refusal({ networkPolicy: { allowedNamespaces: ['*'] } })).toContain(
      'spec.networkPolicy.allowedNamespaces[0] "*" must be a namespace name',
    );
  });

  it('refuses label keys that are not label keys', () => {
    expect(refusal({ networkPolicy: { allowedPodLabels: [{ 'app name': 'api' }] } })).toContain(
      'spec.networkPolicy.allowedPodLabels[0]',
    );
  });
});

describe('parameters: an allow-list, one line each', () => {
  it('refuses a value with a newline, which would start a postgresql.conf line of its own', () => {
    expect(refusal({ parameters: { work_mem: "64MB\nshared_preload_libraries = 'evil'" } })).toContain(
      'spec.parameters.work_mem "64MB\\nshared_preload_libraries = \'evil\'" must be one line of printable text',
    );
  });

  it.each(['session_preload_libraries', 'local_preload_libraries', 'dynamic_library_path'])(
    'refuses %s',
    (name) => {
      expect(refusal({ parameters: { [name]: 'x' } })).toContain(`spec.parameters.${name}`);
    },
  );

  it.each(['ssl_min_protocol_version', 'ssl_ciphers'])('refuses %s (every ssl* parameter)', (name) => {
    expect(refusal({ parameters: { [name]: 'TLSv1' } })).toContain(
      `spec.parameters.${name} "TLSv1" is a TLS setting`,
    );
  });

  it('refuses search_path, which decides the functions superuser sessions run', () => {
    expect(refusal({ parameters: { search_path: 'evil, pg_catalog' } })).toContain(
      'spec.parameters.search_path is not a parameter this platform lets claims set',
    );
  });

  it("takes the platform's own allow-list instead of the default", () => {
    const input = { ...standard, claims: { parameters: ['work_mem'] } };
    expect(refusal({ parameters: { statement_timeout: '5s' } }, input)).toContain(
      'spec.parameters.statement_timeout is not a parameter this platform lets claims set; allowed: work_mem',
    );
    expect(composed({ parameters: { work_mem: '64MB' } }, input)).not.toEqual([]);
  });

  it('refuses a platform allow-list naming a parameter no one may set', () => {
    const input = { ...standard, claims: { parameters: ['ssl_ciphers'] } };
    expect(refusal({}, input)).toContain('input.claims.parameters[0] "ssl_ciphers" is a TLS setting');
  });
});

describe('no template or URI built from unvalidated text', () => {
  it('refuses a namespace that is not a namespace name (render has no API server to check it)', () => {
    expect(refusal({}, standard, { namespace: 'a{{ .password }}b' })).toContain(
      'metadata.namespace "a{{ .password }}b"',
    );
  });

  it('refuses an Input clusterDomain that is not a domain', () => {
    expect(refusal({}, { ...standard, clusterDomain: 'x{{ .password }}' })).toContain(
      'input.clusterDomain "x{{ .password }}" must be a DNS domain',
    );
  });

  it('escapes a space in a secret-store password as %20 in the URIs, which libpq decodes (not "+")', () => {
    const connection = composed({}).find((o) => getString(o, 'metadata', 'name') === 'billing-connection');
    expect(getString(connection, 'spec', 'target', 'template', 'data', 'uri')).toBe(
      'postgresql://billing_rw:{{ .password | urlquery | replace "+" "%20" }}@billing-rw.team-a.svc.cluster.local:5432/billing?sslmode=require',
    );
  });
});
