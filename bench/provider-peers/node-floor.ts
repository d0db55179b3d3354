// The memory floor of a Node program doing a grants provider's I/O, and nothing else: a TLS
// LIST and WATCH of the Grants on the API server, one PostgreSQL connection per database (up to
// the connection cap) with a query on each, and an HTTP port for metrics. No reconciling, no
// schemas, no logging library. The peers bench runs it beside both providers on the same Node
// and flags, so the peak RSS it reports says how much of pgplane's is the runtime's.
//
//   node node-floor.mjs   (bundled by the bench; configured by the environment below)
//     FLOOR_SERVER     https://127.0.0.1:<port> of the API server
//     FLOOR_CA         path of the CA that signed its serving certificate
//     FLOOR_TOKEN      a bearer token
//     FLOOR_PATH       the Grants' collection path, e.g. /apis/grants.pgplane.io/v1alpha1/namespaces/x/grants
//     FLOOR_DATABASES  comma-separated databases on 127.0.0.1:5432 (user postgres, trust)
// Prints "ready" once every connection is open and every answer read, then holds them until SIGTERM.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { request, type RequestOptions } from 'node:https';
import pg from 'pg';

const CONNECTION_CAP = 10;

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`node-floor: ${name} is not set`);
  return value;
}

const server = new URL(env('FLOOR_SERVER'));
const tls: RequestOptions = {
  host: server.hostname,
  port: server.port,
  ca: readFileSync(env('FLOOR_CA')),
  headers: { authorization: `Bearer ${env('FLOOR_TOKEN')}` },
};
const collection = env('FLOOR_PATH');

/** GETs a path and reads the whole answer (a LIST), or its first chunk and keeps it open (a WATCH). */
function get(path: string, watch: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ ...tls, path }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`node-floor: GET ${path}: HTTP ${res.statusCode}`));
      if (watch) {
        resolve();
        res.resume();
      } else res.on('data', () => undefined).on('end', resolve);
    });
    req.on('error', reject).end();
  });
}

const databases = env('FLOOR_DATABASES').split(',').slice(0, CONNECTION_CAP);
const clients = databases.map(
  (database) => new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database }),
);
const metrics = createServer((_req, res) => res.end('up 1\n'));

await get(collection, false);
await get(`${collection}?watch=true&allowWatchBookmarks=true`, true);
await Promise.all(clients.map(async (c) => (await c.connect(), await c.query('SELECT 1'))));
await new Promise<void>((resolve) => metrics.listen(0, '127.0.0.1', resolve));
process.stdout.write('ready\n');

process.once('SIGTERM', () => {
  metrics.close();
  for (const c of clients) void c.end();
  process.exit(0);
});
