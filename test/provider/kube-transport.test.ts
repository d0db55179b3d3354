// The Kubernetes client's transports against small local TLS servers that behave as an API
// server may: HTTP/2 when the server offers h2 (one connection for everything), HTTP/1.1 when it
// does not, a new connection after the server sends GOAWAY, a timeout that names the request, and
// a server certificate from another CA refused. test/conformance/provider-kube-client.test.ts
// runs the same client against a real kube-apiserver.
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Server } from 'node:https';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KubeConnection } from '../../src/provider/kube/config.js';
import { KubeClient } from '../../src/provider/kube/client.js';
import type { WireProtocol } from '../../src/provider/kube/transport.js';
import { makeTestPki, type TestPki } from '../support/tls.js';

let pki: TestPki;
let serverTls: { cert: Buffer; key: Buffer };
const servers: (Server | Http2SecureServer)[] = [];
const clients: KubeClient[] = [];

beforeAll(() => {
  pki = makeTestPki();
  serverTls = {
    cert: readFileSync(join(pki.serverDir, 'tls.crt')),
    key: readFileSync(join(pki.serverDir, 'tls.key')),
  };
});
afterAll(() => pki?.cleanup());
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A request as the server saw it, and the protocol it came over. */
interface Seen {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly httpVersion: string;
}

/** A JSON answer per request: what it asked, so the test sees the request arrived whole. */
function answer(
  req: { method?: string; url?: string; headers: Record<string, unknown>; httpVersion: string },
  res: { setHeader(n: string, v: string): void; end(b: string): void },
  seen: Seen[],
): void {
  const entry: Seen = {
    method: req.method ?? '',
    path: req.url ?? '',
    authorization: req.headers['authorization'] as string | undefined,
    httpVersion: req.httpVersion,
  };
  seen.push(entry);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ kind: 'Status', method: entry.method, path: entry.path }));
}

async function listen(server: Server | Http2SecureServer): Promise<URL> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

function clientFor(server: URL, ca: Buffer = pki.ca): { client: KubeClient; connections: WireProtocol[] } {
  const connections: WireProtocol[] = [];
  const connection: KubeConnection = {
    server,
    source: 'test',
    tls: () => ({ ca: ca.toString(), rejectUnauthorized: true }),
    authorization: () => 'Bearer secret-token',
  };
  const client = new KubeClient(connection, { connected: (p) => connections.push(p) });
  clients.push(client);
  return { client, connections };
}

describe('KubeClient transports', () => {
  it('speaks HTTP/2 to a server that offers h2: 40 requests in flight share one connection', async () => {
    const seen: Seen[] = [];
    const url = await listen(createSecureServer({ ...serverTls }, (req, res) => answer(req, res, seen)));
    const { client, connections } = clientFor(url);

    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        client.get<{ path: string }>(`/api/v1/namespaces/n${i}/configmaps`, { labelSelector: 'a=b' }),
      ),
    );

    expect(answers.map((a) => a.path)).toEqual(
      Array.from({ length: 40 }, (_, i) => `/api/v1/namespaces/n${i}/configmaps?labelSelector=a%3Db`),
    );
    expect(connections).toEqual(['h2']);
    expect(new Set(seen.map((s) => s.httpVersion))).toEqual(new Set(['2.0']));
    expect(seen.every((s) => s.authorization === 'Bearer secret-token')).toBe(true);
  });

  it('sends a body with its content type over HTTP/2', async () => {
    let received = '';
    let contentType: string | undefined;
    const url = await listen(
      createSecureServer({ ...serverTls }, (req, res) => {
        contentType = req.headers['content-type'];
        req.setEncoding('utf8');
        req.on('data', (chunk: string) => (received += chunk));
        req.on('end', () => res.end('{"ok":true}'));
      }),
    );
    const { client } = clientFor(url);
    await expect(
      client.mergePatch('/api/v1/namespaces/a/configmaps/b', { data: { k: 'v' } }),
    ).resolves.toEqual({
      ok: true,
    });
    expect(JSON.parse(received)).toEqual({ data: { k: 'v' } });
    expect(contentType).toBe('application/merge-patch+json');
  });

  it('speaks HTTP/1.1 to a server that offers no h2', async () => {
    const seen: Seen[] = [];
    const url = await listen(createHttpsServer({ ...serverTls }, (req, res) => answer(req, res, seen)));
    const { client, connections } = clientFor(url);

    const answers = await Promise.all(
      Array.from({ length: 3 }, () => client.get<{ method: string }>('/api/v1/namespaces')),
    );

    expect(answers.map((a) => a.method)).toEqual(['GET', 'GET', 'GET']);
    expect(connections.length).toBeGreaterThan(0);
    expect(new Set(connections)).toEqual(new Set(['http/1.1']));
    expect(new Set(seen.map((s) => s.httpVersion))).toEqual(new Set(['1.1']));
  });

  it('opens a new connection after the server sends GOAWAY, and the next request succeeds', async () => {
    const sessions: ServerHttp2Session[] = [];
    const server = createSecureServer({ ...serverTls }, (_req, res) => res.end('{"n":1}'));
    server.on('session', (s) => sessions.push(s));
    const url = await listen(server);
    const { client, connections } = clientFor(url);

    await client.get('/api/v1/namespaces');
    // As an API server shutting down or with --goaway-chance: GOAWAY, then the connection closes.
    sessions[0]!.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(client.get('/api/v1/namespaces')).resolves.toEqual({ n: 1 });

    expect(connections).toEqual(['h2', 'h2']);
  });

  it('a request the server never answers fails after its timeout, naming the method and path but not the query', async () => {
    const url = await listen(createSecureServer({ ...serverTls }, () => undefined));
    const { client } = clientFor(url);

    const failure = await client
      .request('GET', '/api/v1/secrets', { query: { labelSelector: 'team=payments' }, timeoutMs: 200 })
      .then(
        () => undefined,
        (error: unknown) => error as Error,
      );

    expect(failure?.message).toBe('GET /api/v1/secrets: no response from the API server in 200 ms');
  });

  it('refuses a server whose certificate another CA signed, without sending the token', async () => {
    const seen: Seen[] = [];
    const url = await listen(createSecureServer({ ...serverTls }, (req, res) => answer(req, res, seen)));
    const stranger = makeTestPki();
    try {
      const { client } = clientFor(url, stranger.ca);
      const failure = await client.get('/api/v1/namespaces').then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      expect(failure?.message).toMatch(/certificate/i);
      expect(seen).toEqual([]);
    } finally {
      stranger.cleanup();
    }
  });
});
