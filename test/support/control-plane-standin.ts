// THE STAND-IN. No kubelet, CloudNativePG operator or External Secrets Operator can run here, so
// this loop writes what they would, and nothing else:
//   - kubelet/Deployment controller: the package Deployments Crossplane creates report Available
//     (their pods never run; the suite runs the function and the provider itself);
//   - CloudNativePG: for each Cluster, the database and roles it declares are created in the real
//     PostgreSQL 15 on 127.0.0.1:5432, the "<cluster>-app" and "<cluster>-ca" Secrets are written
//     (owned by the Cluster) and the status says Ready; a Database object's schemas and
//     extensions are created and it reports applied;
//   - CloudNativePG's passwords, as it sets them: the owner's from bootstrap.initdb.secret (or the
//     "<cluster>-app" Secret it generates) once, at bootstrap, and never again; each managed role's
//     from its passwordSecret, again whenever that Secret changes (its resourceVersion). Stored as
//     SCRAM-SHA-256 verifiers, so test/support/scram.ts can tell which password the server would
//     accept although this server trusts every login;
//   - External Secrets Operator: each ExternalSecret's target Secret is written from its template
//     with a generated password (owned by the ExternalSecret) and the status says Ready; one
//     reading through a SecretStore of the kubernetes provider (generated credentials) copies the
//     password from the Secret it names, once that exists, as ESO would; such a SecretStore
//     reports Ready.
// The "<cluster>-ca" Secret holds what signed the server certificate, as CloudNativePG's does:
// here the local PostgreSQL's own self-signed certificate (ssl_cert_file). Its name is not the
// cluster's service name, so one deviation, because of this machine and not of pgplane: the
// credentials Secrets (kubernetes.io/basic-auth, which the ProviderConfig names) get
// sslmode=require, so the provider encrypts without checking the name. Passwords never leave this
// module but as the Secrets and verifiers above (trust authentication accepts any).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { getNumber, getPath, getString, isObject, type JsonObject } from '../../src/shared/json.js';
import { ident } from '../../src/shared/sql-ident.js';
import { isConditionTrue, refOf, type KubeClient } from './control-plane-client.js';
import type { HostsFile } from './hosts-file.js';
import { LOCAL_SERVER } from './postgres.js';
import { setPassword } from './scram.js';

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

function condition(type: string, reason: string, message: string): JsonObject {
  return { type, status: 'True', reason, message, lastTransitionTime: new Date().toISOString() };
}

function ownerRef(owner: JsonObject): JsonObject {
  return {
    apiVersion: getString(owner, 'apiVersion') ?? '',
    kind: getString(owner, 'kind') ?? '',
    name: getString(owner, 'metadata', 'name') ?? '',
    uid: getString(owner, 'metadata', 'uid') ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export interface StandIn {
  /** Stops the loop and closes the database connection. */
  stop(): Promise<void>;
  /** Database names and roles it created, so a test can drop them. */
  created(): { databases: string[]; roles: string[] };
}

export function startStandIn(client: KubeClient, hosts: HostsFile, namespace: string): StandIn {
  const db = new pg.Pool({ ...LOCAL_SERVER, database: 'postgres', max: 1 });
  const databases = new Set<string>();
  const roles = new Set<string>();
  let running = true;
  let lastError = '';
  // Clusters bootstrapped (by uid), and per managed role the Secret version whose password is set
  // ("<secret>/<resourceVersion>"), as CloudNativePG records it in status.managedRolesStatus.
  const bootstrapped = new Set<string>();
  const appliedPasswords = new Map<string, string>();

  const sql = async (text: string): Promise<void> => {
    await db.query(text);
  };
  let serverCa: string | undefined;
  const serverCertificate = async (): Promise<string> => {
    if (serverCa === undefined) {
      const { rows } = await db.query<{ ssl_cert_file: string }>('SHOW ssl_cert_file');
      serverCa = readFileSync(rows[0]?.ssl_cert_file ?? '', 'utf8');
    }
    return serverCa;
  };
  const ensureRole = async (name: string, login: boolean): Promise<void> => {
    const found = await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
    if (found.rowCount === 0) await sql(`CREATE ROLE ${quoteIdent(name)}${login ? ' LOGIN' : ''}`);
    roles.add(name);
  };
  const roleExists = async (name: string): Promise<boolean> =>
    ((await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount ?? 0) > 0;
  const applyPassword = async (role: string, password: string): Promise<void> => {
    const connection = await db.connect();
    try {
      await setPassword(connection, role, password);
    } finally {
      connection.release();
    }
  };
  const secretIn = (ns: string, name: string) =>
    client.get({ apiVersion: 'v1', kind: 'Secret', name, namespace: ns });
  const decodedKey = (secret: JsonObject | undefined, key: string): string | undefined => {
    const value = getString(secret, 'data', key);
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
  };

  async function deployments(): Promise<void> {
    for (const d of await client.list({ apiVersion: 'apps/v1', kind: 'Deployment', namespace })) {
      if (isConditionTrue(d, 'Available')) continue;
      await client.patchStatus(refOf({ ...d, apiVersion: 'apps/v1', kind: 'Deployment' }), {
        observedGeneration: getNumber(d, 'metadata', 'generation') ?? 1,
        replicas: 1,
        updatedReplicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
        conditions: [
          condition('Available', 'MinimumReplicasAvailable', 'stand-in: no kubelet runs in this test'),
        ],
      });
    }
  }

  async function clusters(): Promise<void> {
    for (const c of await client.list({ apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster' })) {
      const object = { ...c, apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster' };
      const name = getString(c, 'metadata', 'name') ?? '';
      const ns = getString(c, 'metadata', 'namespace') ?? '';
      const instances = getNumber(c, 'spec', 'instances') ?? 1;
      if (isConditionTrue(c, 'Ready') && getNumber(c, 'status', 'instances') === instances) continue;
      hosts.add(`${name}-rw.${ns}.svc`);
      // A restored Cluster (bootstrap.recovery) holds the source's database and owner.
      const bootstrap = (key: string) =>
        getString(c, 'spec', 'bootstrap', 'initdb', key) ??
        getString(c, 'spec', 'bootstrap', 'recovery', key);
      const owner = bootstrap('owner') ?? 'app';
      const database = bootstrap('database') ?? 'app';
      // initdb waits for the Secret it names; without one, CNPG generates "<cluster>-app" once.
      const uid = getString(c, 'metadata', 'uid') ?? name;
      const initdb = getPath(c, 'spec', 'bootstrap', 'initdb');
      const initdbSecret = isObject(initdb) ? getString(initdb, 'secret', 'name') : undefined;
      const ownerPassword = initdbSecret
        ? decodedKey(await secretIn(ns, initdbSecret), 'password')
        : (decodedKey(await secretIn(ns, `${name}-app`), 'password') ?? randomBytes(18).toString('hex'));
      if (ownerPassword === undefined) continue;
      await ensureRole(owner, true);
      // The owner's password, at bootstrap only: CNPG never reads bootstrap.initdb.secret again, so
      // a rotated owner password reaches PostgreSQL only through managed.roles.
      if (isObject(initdb) && !bootstrapped.has(uid)) await applyPassword(owner, ownerPassword);
      bootstrapped.add(uid);
      const managed = getPath(c, 'spec', 'managed', 'roles');
      for (const role of Array.isArray(managed) ? managed.filter(isObject) : []) {
        const roleName = getString(role, 'name');
        if (roleName) await ensureRole(roleName, role['login'] === true);
      }
      const exists = await db.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (exists.rowCount === 0)
        await sql(`CREATE DATABASE ${quoteIdent(database)} OWNER ${quoteIdent(owner)}`);
      databases.add(database);
      for (const role of Array.isArray(managed) ? managed.filter(isObject) : []) {
        const inRoles = role['inRoles'];
        for (const parent of Array.isArray(inRoles) ? inRoles : []) {
          if (typeof parent === 'string' && typeof role['name'] === 'string') {
            await ensureRole(parent, false);
            await sql(`GRANT ${quoteIdent(parent)} TO ${quoteIdent(role['name'])}`);
          }
        }
      }
      await client.apply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: `${name}-app`, namespace: ns, ownerReferences: [ownerRef(object)] },
        type: 'kubernetes.io/basic-auth',
        stringData: {
          username: owner,
          password: ownerPassword,
          host: `${name}-rw`,
          port: '5432',
          dbname: database,
        },
      });
      await client.apply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: `${name}-ca`, namespace: ns, ownerReferences: [ownerRef(object)] },
        stringData: { 'ca.crt': await serverCertificate() },
      });
      await client.patchStatus(refOf(object), {
        phase: 'Cluster in healthy state',
        instances,
        readyInstances: instances,
        conditions: [
          condition('Ready', 'ClusterIsReady', 'stand-in: the database and roles exist in PostgreSQL 15'),
        ],
      });
    }
  }

  /**
   * Each managed role's password, from its passwordSecret, set again whenever that Secret's
   * resourceVersion moves, as CloudNativePG's role reconciler does; a Secret whose username is not
   * the role's is refused, as CNPG refuses it. Runs for Ready Clusters too: a rotation changes the
   * Secret, not the Cluster.
   */
  async function managedRolePasswords(): Promise<void> {
    const refused: string[] = [];
    for (const c of await client.list({ apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster' })) {
      const ns = getString(c, 'metadata', 'namespace') ?? '';
      const uid = getString(c, 'metadata', 'uid') ?? '';
      const managed = getPath(c, 'spec', 'managed', 'roles');
      for (const role of Array.isArray(managed) ? managed.filter(isObject) : []) {
        const roleName = getString(role, 'name');
        const secretName = getString(role, 'passwordSecret', 'name');
        if (!roleName || !secretName || !(await roleExists(roleName))) continue;
        const secret = await secretIn(ns, secretName);
        const password = decodedKey(secret, 'password');
        const version = `${secretName}/${getString(secret, 'metadata', 'resourceVersion') ?? ''}`;
        if (password === undefined || appliedPasswords.get(`${uid}/${roleName}`) === version) continue;
        const username = decodedKey(secret, 'username');
        if (username !== undefined && username !== roleName) {
          refused.push(`Secret ${ns}/${secretName} names user ${username}, not role ${roleName}`);
          continue;
        }
        await applyPassword(roleName, password);
        appliedPasswords.set(`${uid}/${roleName}`, version);
      }
    }
    if (refused.length > 0) throw new Error(`passwordSecret refused: ${refused.join('; ')}`);
  }

  async function externalSecrets(): Promise<void> {
    for (const e of await client.list({ apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret' })) {
      // Synced for the spec it has now, as ESO records it ("<generation>-<hash>"): a changed spec
      // (a rotation's switch) is synced again.
      const generation = getNumber(e, 'metadata', 'generation') ?? 0;
      const syncedVersion = `${generation}-stand-in`;
      if (isConditionTrue(e, 'Ready') && getString(e, 'status', 'syncedResourceVersion') === syncedVersion)
        continue;
      const object = { ...e, apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret' };
      const ns = getString(e, 'metadata', 'namespace') ?? '';
      const target = getString(e, 'spec', 'target', 'name') ?? getString(e, 'metadata', 'name') ?? '';
      const synced = async (): Promise<void> =>
        client.patchStatus(refOf(object), {
          binding: { name: target },
          refreshTime: new Date().toISOString(),
          syncedResourceVersion: syncedVersion,
          conditions: [condition('Ready', 'SecretSynced', 'stand-in: Secret written from the template')],
        });
      // CreatedOnce: a Secret that exists is never written again, as ESO does.
      if (
        getString(e, 'spec', 'refreshPolicy') === 'CreatedOnce' &&
        (await client.get({ apiVersion: 'v1', kind: 'Secret', name: target, namespace: ns }))
      ) {
        await synced();
        continue;
      }
      const template = getPath(e, 'spec', 'target', 'template');
      const data = isObject(template) && isObject(template['data']) ? template['data'] : {};
      // Hex passwords need no URL escaping, so the template's urlquery pipeline is the identity.
      const copied = await passwordFromKubernetesStore(e, ns);
      if (copied === null) continue;
      const password = copied ?? randomBytes(18).toString('hex');
      const stringData: Record<string, string> = {};
      for (const [key, value] of Object.entries(data)) {
        if (typeof value === 'string')
          stringData[key] = value.replace(/\{\{\s*\.password[^}]*\}\}/g, password);
      }
      if (Object.keys(stringData).length === 0) stringData['password'] = password;
      const type = (isObject(template) ? getString(template, 'type') : undefined) ?? 'Opaque';
      // The deviation described at the top: credentials name no sslmode, so the provider would use
      // verify-full, which this machine's certificate cannot pass. Written with the Secret, before
      // the provider's first connection.
      if (type === 'kubernetes.io/basic-auth') stringData['sslmode'] = 'require';
      const labels = isObject(template) ? getPath(template, 'metadata', 'labels') : undefined;
      await client.apply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: target,
          namespace: ns,
          ...(isObject(labels) ? { labels } : {}),
          ...(getString(e, 'spec', 'target', 'creationPolicy') !== 'Merge'
            ? { ownerReferences: [ownerRef(object)] }
            : {}),
        },
        type,
        stringData,
      });
      await synced();
    }
  }

  /**
   * The password an ExternalSecret reads through a kubernetes-provider SecretStore: undefined when
   * it reads from no such store (a generator or a real store: the stand-in makes one up), null
   * while the store or the Secret it copies does not exist yet.
   */
  async function passwordFromKubernetesStore(e: JsonObject, ns: string): Promise<string | null | undefined> {
    const storeName = getString(e, 'spec', 'secretStoreRef', 'name');
    if (!storeName || getString(e, 'spec', 'secretStoreRef', 'kind') !== 'SecretStore') return undefined;
    const store = await client.get({
      apiVersion: 'external-secrets.io/v1',
      kind: 'SecretStore',
      name: storeName,
      namespace: ns,
    });
    // Not created yet: ESO would report the store missing and retry, never make a password up.
    if (store === undefined) return null;
    if (!isObject(getPath(store, 'spec', 'provider', 'kubernetes'))) return undefined;
    const data = getPath(e, 'spec', 'data');
    const entry = Array.isArray(data) ? data.find(isObject) : undefined;
    const key = entry ? getString(entry, 'remoteRef', 'key') : undefined;
    const property = (entry ? getString(entry, 'remoteRef', 'property') : undefined) ?? 'password';
    if (!key) return null;
    const source = await client.get({ apiVersion: 'v1', kind: 'Secret', name: key, namespace: ns });
    const encoded = getString(source, 'data', property);
    return encoded === undefined ? null : Buffer.from(encoded, 'base64').toString('utf8');
  }

  async function secretStores(): Promise<void> {
    for (const store of await client.list({ apiVersion: 'external-secrets.io/v1', kind: 'SecretStore' })) {
      if (isConditionTrue(store, 'Ready')) continue;
      await client.patchStatus(
        refOf({ ...store, apiVersion: 'external-secrets.io/v1', kind: 'SecretStore' }),
        {
          capabilities: 'ReadOnly',
          conditions: [condition('Ready', 'Valid', 'stand-in: store validated')],
        },
      );
    }
  }

  async function databaseObjects(): Promise<void> {
    for (const d of await client.list({ apiVersion: 'postgresql.cnpg.io/v1', kind: 'Database' })) {
      if (getPath(d, 'status', 'applied') === true) continue;
      const database = getString(d, 'spec', 'name');
      const owner = getString(d, 'spec', 'owner');
      // Wait for the Cluster pass to create the database, as CNPG's Database controller would.
      if (!database || !databases.has(database)) continue;
      const inDatabase = new pg.Client({ ...LOCAL_SERVER, database });
      await inDatabase.connect();
      try {
        const schemas = getPath(d, 'spec', 'schemas');
        for (const schema of Array.isArray(schemas) ? schemas.filter(isObject) : []) {
          const name = getString(schema, 'name');
          const schemaOwner = getString(schema, 'owner') ?? owner;
          if (!name) continue;
          await inDatabase.query(
            `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(name)}${schemaOwner ? ` AUTHORIZATION ${quoteIdent(schemaOwner)}` : ''}`,
          );
        }
        const extensions = getPath(d, 'spec', 'extensions');
        for (const extension of Array.isArray(extensions) ? extensions.filter(isObject) : []) {
          const name = getString(extension, 'name');
          if (name) await inDatabase.query(`CREATE EXTENSION IF NOT EXISTS ${quoteIdent(name)}`);
        }
      } finally {
        await inDatabase.end();
      }
      await client.patchStatus(refOf({ ...d, apiVersion: 'postgresql.cnpg.io/v1', kind: 'Database' }), {
        applied: true,
      });
    }
  }

  const loop = (async () => {
    while (running) {
      for (const step of [
        deployments,
        clusters,
        secretStores,
        externalSecrets,
        managedRolePasswords,
        databaseObjects,
      ]) {
        try {
          await step();
        } catch (error) {
          // CRDs appear while the suite runs and objects change under the loop: retry next tick,
          // and report a problem once rather than every 500 ms.
          const message = error instanceof Error ? error.message : String(error);
          if (message !== lastError && !/does not serve/.test(message))
            console.error(`stand-in (${step.name}): ${message}`);
          lastError = message;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();

  return {
    stop: async () => {
      running = false;
      await loop;
      await db.end();
    },
    created: () => ({ databases: [...databases], roles: [...roles] }),
  };
}

/**
 * Leaves the shared PostgreSQL 15 as it was: drops the databases and roles the stand-in made for
 * CloudNativePG, and any other roles a suite created itself.
 */
export async function dropCreatedObjects(
  created: { databases: string[]; roles: string[] },
  extraRoles: readonly string[] = [],
): Promise<void> {
  const client = new pg.Client({ ...LOCAL_SERVER, database: 'postgres' });
  await client.connect();
  try {
    for (const name of created.databases)
      await client.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
    for (const role of [...created.roles, ...extraRoles])
      await client.query(`DROP ROLE IF EXISTS ${ident(role)}`);
  } finally {
    await client.end();
  }
}
