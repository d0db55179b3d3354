// A database session through a managed resource's ProviderConfig, for every kind this provider
// manages (crossplane-runtime's Connect): resolve the ProviderConfig and its Secrets, mark the
// config in use before anything is changed through it (usage.ts), record what the object depends
// on so a change to any of it re-reconciles the object, and open a client on one database. The
// failure message names the config, the Secret and the keys, never a Secret value (disclosure.ts).
import type { ApplyClient } from '../grants/index.js';
import {
  describeConnection,
  describeSecret,
  describeSource,
  providerConfigRefOf,
  resolveConnection,
  type ConnectionSource,
  type ProviderConfigRef,
  type SecretRef,
  type ServerConnection,
} from './connection.js';
import { connectFailure, redact } from './disclosure.js';
import type { ManagedObject } from './managed/reconciler.js';
import { oneLine, ReconcileFailure } from './managed/messages.js';

export interface ConfigStore {
  /** The ProviderConfig (in the object's namespace) or ClusterProviderConfig; throws ConnectionConfigError. */
  source(ref: ProviderConfigRef, objectNamespace: string): Promise<ConnectionSource>;
  /**
   * Puts the in-use finalizer on the config before anything is changed through it, so the config
   * cannot disappear while an object still has something to remove through it (usage.ts).
   */
  markInUse(ref: ProviderConfigRef, objectNamespace: string): Promise<void>;
  /** A Secret's decoded data and its resourceVersion (which changes with its content); undefined when missing. */
  readSecret(ref: SecretRef): Promise<StoredSecret | undefined>;
}

export interface StoredSecret {
  readonly data: Readonly<Record<string, string>>;
  readonly version: string;
}

export interface Databases {
  withClient<T>(
    connection: ServerConnection,
    database: string,
    fn: (client: ApplyClient) => Promise<T>,
  ): Promise<T>;
}

/** What an object connects through; undefined when it is forgotten. */
export interface ConfigDependencies {
  readonly providerConfig: ProviderConfigRef;
  readonly secrets: readonly SecretRef[];
}

type DependencyObserver = (key: string, deps: ConfigDependencies | undefined) => void;

/** Removes Secret values from text the driver or the server wrote (disclosure.ts). */
export type Scrub = (text: string) => string;

export interface SessionDeps {
  readonly configs: ConfigStore;
  readonly databases: Databases;
  readonly dependencies?: DependencyObserver | undefined;
}

/**
 * An object's way to its server: the ProviderConfig and Secrets resolved (and the config marked in
 * use), ready to open clients on any database of that server.
 */
export interface Session {
  readonly connection: ServerConnection;
  /** Removes this connection's Secret values from text the driver or the server wrote. */
  readonly scrub: Scrub;
  /** Runs fn with a client on `database`; a failure to connect says which config, Secret and keys. */
  withClient<T>(database: string, fn: (client: ApplyClient) => Promise<T>): Promise<T>;
  /**
   * Reads a Secret the object's spec names (a Role's password), in the object's namespace, and
   * records it as a dependency: a change of its content re-reconciles the object.
   */
  readSecret(ref: SecretRef): Promise<StoredSecret | undefined>;
}

/** Resolves the server the object's spec.providerConfigRef names. */
export async function openSession(
  deps: SessionDeps,
  key: string,
  object: ManagedObject<unknown>,
): Promise<Session> {
  const ref = providerConfigRefOf(
    (object.spec as { providerConfigRef?: { name: string; kind?: string } } | undefined)?.providerConfigRef,
  );
  // Recorded before anything can fail: creating or fixing a missing ProviderConfig or Secret re-reconciles.
  let secretsRead: SecretRef[] = [];
  const remember = (): void => deps.dependencies?.(key, { providerConfig: ref, secrets: secretsRead });
  remember();
  const source = await deps.configs.source(ref, object.metadata.namespace);
  await deps.configs.markInUse(ref, object.metadata.namespace);
  const read = async (secretRef: SecretRef): Promise<StoredSecret | undefined> => {
    if (!secretsRead.some((s) => s.namespace === secretRef.namespace && s.name === secretRef.name)) {
      secretsRead = [...secretsRead, secretRef];
      remember();
    }
    return deps.configs.readSecret(secretRef);
  };
  const { connection } = await resolveConnection(source, async (secretRef) => (await read(secretRef))?.data);
  const scrub: Scrub = (text) => redact(text, connection.secretValues);
  return {
    connection,
    scrub,
    readSecret: read,
    withClient: async (database, fn) => {
      try {
        return await deps.databases.withClient(connection, database, fn);
      } catch (error) {
        if (error instanceof ReconcileFailure) throw error;
        // Our words for the known causes: the driver's own text echoes the host and the role.
        throw new ReconcileFailure(
          oneLine(
            `cannot connect to ${describeConnection(connection, database)} using ${describeSource(source)} with ${describeSecret(connection)}: ${connectFailure(error, connection.secretValues)}`,
          ),
        );
      }
    },
  };
}

/** Runs fn with a client on `database` of the server the object's spec.providerConfigRef names. */
export async function withSession<T>(
  deps: SessionDeps,
  key: string,
  object: ManagedObject<unknown>,
  database: string,
  fn: (client: ApplyClient, scrub: Scrub) => Promise<T>,
): Promise<T> {
  const session = await openSession(deps, key, object);
  return session.withClient(database, (client) => fn(client, session.scrub));
}
