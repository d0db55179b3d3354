// The provider's Kubernetes REST client: JSON over one keep-alive connection pool, objects as the
// JSON they are (no typed serializer to copy or drop fields), errors as the API server's Status.
// config.ts says why it is not @kubernetes/client-node.
//
// Requests share a few kept-alive connections, so a reconcile's patches and Event reuse warm TLS
// connections (a handshake per request had been 40 % of the provider's CPU); the agents are
// rebuilt when the TLS material changes (a rotated client certificate). Every request but a watch is bounded by
// a timeout; a watch is bounded by the server's timeoutSeconds plus a margin, so a connection that
// died silently is noticed.
import {
  Agent as HttpAgent,
  request as httpRequest,
  type AgentOptions as HttpAgentOptions,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { isObject } from '../../shared/json.js';
import type { KubeConnection, KubeTls } from './config.js';

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

/**
 * Requests share a bounded set of kept-alive connections, as many as a burst of reconciles keeps
 * in flight (--concurrency 50 and their Events): 8 saved ~3 MiB at 500 Grants but made them Ready
 * ~1.2 s later (12.4 s against 11.1-11.2 s alone in bench/provider-peers); each watch has its own
 * connection for as long as it runs, so a long watch never takes a request's place.
 */
const REQUEST_SOCKETS = 64;

interface Agents {
  readonly material: string;
  readonly requests: HttpAgent;
  readonly watches: HttpAgent;
}

type Use = 'requests' | 'watches';

/** Told of every answer, for metrics: the method (WATCH for a watch) and the status or "error". */
export interface KubeClientObserver {
  readonly answered?: (method: string, code: string) => void;
}

export class KubeClient {
  private agents: Agents | undefined;

  constructor(
    readonly connection: KubeConnection,
    private readonly observer: KubeClientObserver = {},
  ) {}

  private options(method: string, path: string, headers: Record<string, string>, use: Use): RequestOptions {
    const { server } = this.connection;
    const authorization = this.connection.authorization();
    return {
      method,
      protocol: server.protocol,
      hostname: server.hostname.replace(/^\[|\]$/g, ''),
      port: server.port || (server.protocol === 'https:' ? 443 : 80),
      path: `${server.pathname.replace(/\/$/, '')}${path}`,
      headers: {
        Accept: 'application/json',
        ...headers,
        ...(authorization ? { Authorization: authorization } : {}),
      },
      agent: this.agent(server.protocol === 'https:' ? this.connection.tls() : undefined)[use],
    };
  }

  private agent(tls: KubeTls | undefined): Agents {
    const material = JSON.stringify(
      tls ? [tls.ca, tls.cert, tls.key, tls.servername, tls.rejectUnauthorized] : null,
    );
    if (this.agents?.material !== material) {
      this.close();
      const make = (options: HttpAgentOptions) =>
        tls ? new HttpsAgent({ ...tls, ...options }) : new HttpAgent(options);
      this.agents = {
        material,
        requests: make({ keepAlive: true, maxSockets: REQUEST_SOCKETS, maxFreeSockets: REQUEST_SOCKETS }),
        watches: make({ keepAlive: false }),
      };
    }
    return this.agents;
  }

  private send(
    method: string,
    path: string,
    body: string | undefined,
    headers: Record<string, string>,
    timeoutMs: number,
    watch?: { readonly signal: AbortSignal },
  ): Promise<IncomingMessage> {
    const options = this.options(
      method,
      path,
      { ...headers, ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) },
      watch ? 'watches' : 'requests',
    );
    const send = options.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send({ ...options, ...(watch ? { signal: watch.signal } : {}) }, resolve);
      req.setTimeout(timeoutMs, () =>
        req.destroy(
          new Error(`${method} ${path.split('?')[0]}: no response from the API server in ${timeoutMs} ms`),
        ),
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** One request; resolves to the parsed body; throws KubeApiError on a status >= 300. */
  async request<T = unknown>(method: string, path: string, options: RequestOptionsIn = {}): Promise<T> {
    const full = withQuery(path, options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let response: IncomingMessage;
    try {
      response = await this.send(
        method,
        full,
        body,
        body !== undefined ? { 'Content-Type': options.contentType ?? 'application/json' } : {},
        timeoutMs,
      );
    } catch (error) {
      this.observer.answered?.(method, 'error');
      throw error;
    }
    this.observer.answered?.(method, String(response.statusCode ?? 'error'));
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', resolve);
      response.on('error', reject);
      response.on('aborted', () => reject(new Error(`${method} ${path}: the response was cut short`)));
    });
    const text = Buffer.concat(chunks).toString('utf8');
    const status = response.statusCode ?? 500;
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
    let response: IncomingMessage;
    try {
      // Silence longer than the server's own timeout plus a minute: the connection is dead.
      response = await this.send('GET', full, undefined, {}, (query.timeoutSeconds + 60) * 1000, {
        signal,
      });
    } catch (error) {
      if (signal.aborted) return;
      this.observer.answered?.('WATCH', 'error');
      throw error;
    }
    this.observer.answered?.('WATCH', String(response.statusCode ?? 'error'));
    const status = response.statusCode ?? 500;
    if (status >= 300) {
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      throw statusError('GET', full, status, Buffer.concat(chunks).toString('utf8'));
    }
    let pending = '';
    try {
      response.setEncoding('utf8');
      for await (const chunk of response) {
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

  /** Closes the kept-alive connections (at shutdown). */
  close(): void {
    this.agents?.requests.destroy();
    this.agents?.watches.destroy();
    this.agents = undefined;
  }
}
