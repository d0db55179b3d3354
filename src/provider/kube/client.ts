// The provider's Kubernetes REST client: JSON over HTTP/2 (HTTP/1.1 where the server has no h2;
// transport.ts), objects as the JSON they are (no typed serializer to copy or drop fields), errors
// as the API server's Status. config.ts says why it is not @kubernetes/client-node.
//
// The transport is rebuilt when the TLS material changes (a rotated client certificate); the old
// one finishes what is in flight. Every request but a watch is bounded by a timeout; a watch is
// bounded by the server's timeoutSeconds plus a margin, so a connection that died silently is
// noticed.
import type { Readable } from 'node:stream';
import { isObject } from '../../shared/json.js';
import type { KubeConnection, KubeTls } from './config.js';
import { Http1Transport } from './http1-transport.js';
import { Http2Transport } from './http2-transport.js';
import type { KubeResponse, KubeTransport, WireProtocol } from './transport.js';

const MERGE_PATCH = 'application/merge-patch+json';
const DEFAULT_TIMEOUT_MS = 30_000;

/** A response with status >= 300, with the API server's reason (NotFound, Conflict, Gone, ...). */
export class KubeApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly reason: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 404;
}

export function isConflict(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 409;
}

export interface RequestOptionsIn {
  readonly body?: unknown;
  readonly contentType?: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly timeoutMs?: number;
}

/** One event of a watch stream. */
export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: unknown;
}

function withQuery(path: string, query: RequestOptionsIn['query']): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

function statusError(method: string, path: string, status: number, text: string): KubeApiError {
  let reason = '';
  let message = text.slice(0, 1000);
  try {
    const parsed: unknown = JSON.parse(text);
    if (isObject(parsed)) {
      reason = typeof parsed['reason'] === 'string' ? parsed['reason'] : '';
      if (typeof parsed['message'] === 'string') message = parsed['message'];
    }
  } catch {
    // Not a Status (a proxy's page): its text, cut short.
  }
  return new KubeApiError(
    `${method} ${path.split('?')[0]}: ${message} (${status}${reason ? ` ${reason}` : ''})`,
    status,
    reason,
  );
}

/** Told of every answer and connection, for metrics. */
export interface KubeClientObserver {
  /** The method (WATCH for a watch) and the status, or "error" when no answer came. */
  readonly answered?: (method: string, code: string) => void;
  /** A new connection to the API server and what it speaks. */
  readonly connected?: (protocol: WireProtocol) => void;
}

/** The whole body of a response as text; fails if the connection ends before the body does. */
async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export class KubeClient {
  private current: { readonly material: string; readonly transport: KubeTransport } | undefined;

  constructor(
    readonly connection: KubeConnection,
    private readonly observer: KubeClientObserver = {},
  ) {}

  private transport(): KubeTransport {
    const { server } = this.connection;
    const tls: KubeTls | undefined = server.protocol === 'https:' ? this.connection.tls() : undefined;
    const material = JSON.stringify(
      tls ? [tls.ca, tls.cert, tls.key, tls.servername, tls.rejectUnauthorized] : null,
    );
    if (this.current?.material !== material) {
      this.current?.transport.close();
      const onConnection = (protocol: WireProtocol) => this.observer.connected?.(protocol);
      this.current = {
        material,
        // No HTTP/2 without TLS, as client-go: h2c is rare in front of an API server.
        transport: tls
          ? new Http2Transport(server, tls, onConnection)
          : new Http1Transport(server, undefined, onConnection),
      };
    }
    return this.current.transport;
  }

  private send(
    method: string,
    path: string,
    body: string | undefined,
    headers: Record<string, string>,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<KubeResponse> {
    const authorization = this.connection.authorization();
    return this.transport().send({
      method,
      path: `${this.connection.server.pathname.replace(/\/$/, '')}${path}`,
      headers: {
        accept: 'application/json',
        ...headers,
        ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
        ...(authorization ? { authorization } : {}),
      },
      body,
      timeoutMs,
      signal,
    });
  }

  /** One request; resolves to the parsed body; throws KubeApiError on a status >= 300. */
  async request<T = unknown>(method: string, path: string, options: RequestOptionsIn = {}): Promise<T> {
    const full = withQuery(path, options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let response: KubeResponse;
    try {
      response = await this.send(
        method,
        full,
        body,
        body !== undefined ? { 'content-type': options.contentType ?? 'application/json' } : {},
        timeoutMs,
      );
    } catch (error) {
      this.observer.answered?.(method, 'error');
      throw error;
    }
    const { status } = response;
    this.observer.answered?.(method, String(status));
    let text: string;
    try {
      text = await readText(response.body);
    } catch (error) {
      throw new Error(`${method} ${path}: the response was cut short: ${(error as Error).message}`);
    }
    if (status >= 300) throw statusError(method, full, status, text);
    try {
      return (text === '' ? {} : JSON.parse(text)) as T;
    } catch {
      throw new Error(`${method} ${path}: the API server answered ${status} with a body that is not JSON`);
    }
  }

  get<T = unknown>(path: string, query?: RequestOptionsIn['query']): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  create<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  replace<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }

  mergePatch<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body, contentType: MERGE_PATCH });
  }

  /**
   * Streams a watch: calls onEvent for each event until the server ends the stream (resolves), the
   * connection fails (rejects) or signal aborts (resolves). The server ends it after timeoutSeconds.
   */
  async watch(
    path: string,
    query: RequestOptionsIn['query'] & { timeoutSeconds: number },
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const full = withQuery(path, { ...query, watch: true });
    let response: KubeResponse;
    try {
      // Silence longer than the server's own timeout plus a minute: the connection is dead.
      response = await this.send('GET', full, undefined, {}, (query.timeoutSeconds + 60) * 1000, signal);
    } catch (error) {
      if (signal.aborted) return;
      this.observer.answered?.('WATCH', 'error');
      throw error;
    }
    const { status } = response;
    this.observer.answered?.('WATCH', String(status));
    if (status >= 300) throw statusError('GET', full, status, await readText(response.body));
    let pending = '';
    try {
      response.body.setEncoding('utf8');
      for await (const chunk of response.body) {
        pending += chunk as string;
        let newline = pending.indexOf('\n');
        while (newline >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line !== '') onEvent(JSON.parse(line) as WatchEvent);
          newline = pending.indexOf('\n');
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
  }

  /** Closes the connections once what is in flight has finished (at shutdown). */
  close(): void {
    this.current?.transport.close();
    this.current = undefined;
  }
}
