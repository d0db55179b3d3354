// ProviderConfig + its Secrets → how to connect to PostgreSQL. The only place Secret values are
// read; they go into the pg config and nowhere else: describeConnection() shows a Secret-sourced
// value as its key (<username>), errors name the Secret and the key, never the value, and
// secretValues lets every other message be scrubbed (disclosure.ts).
import { createHash } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import { shownKey, type SecretValue } from './disclosure.js';
import {
  CLUSTER_PROVIDER_CONFIG_KIND,
  clusterProviderConfigSpecSchema,
  DEFAULT_SECRET_KEYS,
  PROVIDER_CONFIG_KIND,
  providerConfigSpecSchema,
  SSL_MODES,
  type ProviderConfigSpec,
  type SslMode,
} from '../api/provider-config.js';

export type ProviderConfigKind = typeof PROVIDER_CONFIG_KIND | typeof CLUSTER_PROVIDER_CONFIG_KIND;

export interface ProviderConfigRef {
  readonly kind: ProviderConfigKind;
  readonly name: string;
}

/**
 * The ProviderConfig a Grant uses. As in Crossplane v2, a Grant without a reference uses the
 * ClusterProviderConfig "default", and a reference without a kind means ClusterProviderConfig.
 */
export function providerConfigRefOf(
  ref: { name: string; kind?: string | undefined } | undefined,
): ProviderConfigRef {
  if (!ref) return { kind: CLUSTER_PROVIDER_CONFIG_KIND, name: 'default' };
  const kind = ref.kind ?? CLUSTER_PROVIDER_CONFIG_KIND;
  if (kind !== PROVIDER_CONFIG_KIND && kind !== CLUSTER_PROVIDER_CONFIG_KIND) {
    throw new ConnectionConfigError(
      `spec.providerConfigRef.kind is "${kind}"; use ${PROVIDER_CONFIG_KIND} (same namespace) or ${CLUSTER_PROVIDER_CONFIG_KIND}`,
    );
  }
  return { kind, name: ref.name };
}

/** A readable configuration problem; its message is safe to put in a condition. */
export class ConnectionConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionConfigError';
  }
}

export interface SecretRef {
  readonly namespace: string;
  readonly name: string;
}

/** Decoded Secret data, or undefined when the Secret does not exist. */
export type SecretReader = (ref: SecretRef) => Promise<Readonly<Record<string, string>> | undefined>;

/** What pg needs, minus the database (each Grant names its own). */
export interface ServerConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly sslmode: SslMode;
  readonly ssl: false | ConnectionOptions;
  /** Where server-wide objects (roles, databases) are managed from: the ProviderConfig's defaultDatabase. */
  readonly defaultDatabase: string;
  /** Changes when the password or CA changes, so pools holding old credentials are replaced. */
  readonly credentialsFingerprint: string;
  /**
   * host, port and user as messages may show them: a value from the ProviderConfig as is, a
   * value from a Secret as its key (<username>), since the ProviderConfig's author picks the key.
   */
  readonly shown: { readonly host: string; readonly port: string; readonly user: string };
  /** The connection Secret, named in messages next to the keys. */
  readonly secret: SecretRef;
  /** Every value read from a Secret, so a message can be scrubbed of them (disclosure.redact). */
  readonly secretValues: readonly SecretValue[];
}

export interface ResolvedConnection {
  readonly connection: ServerConnection;
  /** Every Secret read; a change to any of them re-reconciles the Grants using it. */
  readonly secrets: readonly SecretRef[];
}

/** A parsed ProviderConfig or ClusterProviderConfig, reduced to what connecting needs. */
export interface ConnectionSource {
  readonly kind: ProviderConfigKind;
  readonly name: string;
  /** Where its Secrets (and the CNPG cluster) live. */
  readonly namespace: string;
  readonly spec: ProviderConfigSpec;
}

/** Validates a ProviderConfig/ClusterProviderConfig object read from the API server. */
export function connectionSource(
  kind: ProviderConfigKind,
  object: { metadata?: { name?: string; namespace?: string }; spec?: unknown },
): ConnectionSource {
  const name = object.metadata?.name ?? '';
  const parsed =
    kind === CLUSTER_PROVIDER_CONFIG_KIND
      ? clusterProviderConfigSpecSchema.safeParse(object.spec)
      : providerConfigSpecSchema.safeParse(object.spec);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConnectionConfigError(`${kind} "${name}" is invalid: ${problems}`);
  }
  const namespace =
    'namespace' in parsed.data && typeof parsed.data.namespace === 'string'
      ? parsed.data.namespace
      : (object.metadata?.namespace ?? '');
  return { kind, name, namespace, spec: parsed.data };
}

export function describeSource(source: ConnectionSource): string {
  return source.kind === PROVIDER_CONFIG_KIND
    ? `${source.kind} "${source.namespace}/${source.name}"`
    : `${source.kind} "${source.name}"`;
}

/** The Secrets a source reads: the connection Secret and, when there is one, the CA Secret. */
function secretRefs(source: ConnectionSource): {
  connection: SecretRef;
  ca: { ref: SecretRef; key: string } | undefined;
} {
  const { spec, namespace } = source;
  const connectionName = spec.connectionSecretRef?.name ?? `${spec.cluster}-app`;
  const caName = spec.caSecretRef?.name ?? (spec.cluster ? `${spec.cluster}-ca` : undefined);
  return {
    connection: { namespace, name: connectionName },
    ca: caName ? { ref: { namespace, name: caName }, key: spec.caSecretRef?.key ?? 'ca.crt' } : undefined,
  };
}

/**
 * Builds the connection from the source and the Secrets' data. Precedence for host, port and
 * sslmode: the ProviderConfig's own field, then (for host) the CNPG service name, then the
 * Secret, then the default (port 5432; sslmode verify-full with a CA, require without).
 */
export function buildConnection(
  source: ConnectionSource,
  secret: Readonly<Record<string, string>>,
  ca: string | undefined,
): ServerConnection {
  const { spec } = source;
  const refs = secretRefs(source);
  const where = `Secret "${refs.connection.namespace}/${refs.connection.name}" (from ${describeSource(source)})`;
  const keys = { ...DEFAULT_SECRET_KEYS, ...spec.keys };
  const secretValues: SecretValue[] = [];
  // Every value read is remembered, used or not, valid or not, so no message can echo it.
  const value = (key: string): string | undefined => {
    const v = secret[key];
    if (v !== undefined && v !== '') secretValues.push({ key, value: v });
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };

  const specHost = spec.host ?? (spec.cluster ? `${spec.cluster}-rw.${source.namespace}.svc` : undefined);
  const host = specHost ?? value(keys.host);
  if (!host)
    throw new ConnectionConfigError(`${where} has no key "${keys.host}" and the ProviderConfig sets no host`);

  let port = spec.port;
  let portFromSecret = false;
  if (port === undefined) {
    const raw = value(keys.port);
    portFromSecret = raw !== undefined;
    port = raw === undefined ? 5432 : Number(raw);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ConnectionConfigError(`${where} key "${keys.port}" is not a port number (1-65535)`);
    }
  }

  const user = value(keys.user);
  if (!user) throw new ConnectionConfigError(`${where} has no key "${keys.user}" (the role to connect as)`);
  // The password is not trimmed: spaces may be part of it.
  const password = secret[keys.password];
  if (password === undefined || password === '') {
    throw new ConnectionConfigError(`${where} has no key "${keys.password}"`);
  }
  secretValues.push({ key: keys.password, value: password });

  let sslmode: SslMode = spec.sslmode ?? (ca ? 'verify-full' : 'require');
  if (spec.sslmode === undefined) {
    const raw = value(keys.sslmode);
    if (raw !== undefined) {
      if (!(SSL_MODES as readonly string[]).includes(raw)) {
        // Never the value: the key may be any key of the Secret.
        throw new ConnectionConfigError(
          `${where} key "${keys.sslmode}" does not hold an sslmode; it must be one of ${SSL_MODES.join(', ')}`,
        );
      }
      sslmode = raw as SslMode;
    }
  }
  if (ca !== undefined && ca !== '') {
    secretValues.push({ key: source.spec.caSecretRef?.key ?? 'ca.crt', value: ca });
  }
  if ((sslmode === 'verify-ca' || sslmode === 'verify-full') && !ca) {
    throw new ConnectionConfigError(
      `sslmode ${sslmode} needs a CA: set caSecretRef (or cluster) in ${describeSource(source)}`,
    );
  }

  const ssl: false | ConnectionOptions =
    sslmode === 'disable'
      ? false
      : sslmode === 'require'
        ? { rejectUnauthorized: false }
        : sslmode === 'verify-ca'
          ? // The chain is verified, the host name is not (libpq's verify-ca).
            { rejectUnauthorized: true, ...(ca ? { ca } : {}), checkServerIdentity: () => undefined }
          : { rejectUnauthorized: true, ...(ca ? { ca } : {}) };

  const credentialsFingerprint = createHash('sha256')
    .update(`${password}\u0000${ca ?? ''}`)
    .digest('hex')
    .slice(0, 16);
  const shown = {
    host: specHost ?? shownKey(keys.host),
    port: portFromSecret ? shownKey(keys.port) : String(port),
    user: shownKey(keys.user),
  };
  return {
    host,
    port,
    user,
    password,
    sslmode,
    ssl,
    defaultDatabase: spec.defaultDatabase ?? 'postgres',
    credentialsFingerprint,
    shown,
    secret: refs.connection,
    secretValues,
  };
}

/** Reads the Secrets of a source and builds the connection. */
export async function resolveConnection(
  source: ConnectionSource,
  readSecret: SecretReader,
): Promise<ResolvedConnection> {
  const refs = secretRefs(source);
  const secrets = [refs.connection, ...(refs.ca ? [refs.ca.ref] : [])];
  const data = await readSecret(refs.connection);
  if (!data) {
    throw new ConnectionConfigError(
      `Secret "${refs.connection.namespace}/${refs.connection.name}" named by ${describeSource(source)} does not exist`,
    );
  }
  let ca: string | undefined;
  if (refs.ca) {
    const caData = await readSecret(refs.ca.ref);
    // An explicit caSecretRef must exist; the CNPG default may be absent when sslmode says so.
    if (!caData && (source.spec.caSecretRef || (source.spec.sslmode ?? 'verify-full') !== 'disable')) {
      throw new ConnectionConfigError(
        `CA Secret "${refs.ca.ref.namespace}/${refs.ca.ref.name}" named by ${describeSource(source)} does not exist`,
      );
    }
    ca = caData?.[refs.ca.key];
    if (caData && !ca) {
      throw new ConnectionConfigError(
        `CA Secret "${refs.ca.ref.namespace}/${refs.ca.ref.name}" has no key "${refs.ca.key}"`,
      );
    }
  }
  return { connection: buildConnection(source, data, ca), secrets };
}

/**
 * For logs and messages: "<username>@pg-rw.team.svc:5432/app (sslmode verify-full)". A value
 * from a Secret shows as its <key>, whatever the key holds.
 */
export function describeConnection(c: ServerConnection, database?: string): string {
  const { user, host, port } = c.shown;
  return `${user}@${host}:${port}${database ? `/${database}` : ''} (sslmode ${c.sslmode})`;
}

/** `Secret "team/app-owner"`: where the <key>s of describeConnection() live. */
export function describeSecret(c: ServerConnection): string {
  return `Secret "${c.secret.namespace}/${c.secret.name}"`;
}

/** Kubernetes Secret data (base64) → strings. */
export function decodeSecretData(data: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data ?? {}))
    out[key] = Buffer.from(value, 'base64').toString('utf8');
  return out;
}
