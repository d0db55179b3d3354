// How the Kubernetes client's requests reach the API server: one request in, a status and a body
// stream out. Two transports: HTTP/2 (http2-transport.ts), which every https server gets first,
// and HTTP/1.1 (http1-transport.ts), for http:// servers and for https servers that do not offer
// h2 — the same choice client-go makes.
import type { Readable } from 'node:stream';

export interface KubeRequest {
  readonly method: string;
  /** The path from the server's root, with its query. */
  readonly path: string;
  /** Header names in lower case (HTTP/2 requires it; HTTP/1.1 does not care). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | undefined;
  /** Inactivity, in milliseconds, after which the request fails. */
  readonly timeoutMs: number;
  /** Ends the request (a watch) when aborted. */
  readonly signal?: AbortSignal | undefined;
}

export interface KubeResponse {
  readonly status: number;
  /** The body as it arrives; it fails if the connection does before the end. */
  readonly body: Readable;
}

/** What goes over the wire: "h2" or "http/1.1". */
export type WireProtocol = 'h2' | 'http/1.1';

export interface KubeTransport {
  send(request: KubeRequest): Promise<KubeResponse>;
  /** Takes no new requests, lets those in flight finish, then closes its connections. */
  close(): void;
}

/** Told of each new connection to the API server, for metrics and tests. */
export type OnConnection = (protocol: WireProtocol) => void;

/** The server's host as a socket takes it: an IPv6 address without the URL's brackets. */
export function hostOf(server: URL): string {
  return server.hostname.replace(/^\[|\]$/g, '');
}

/** A request's timeout, with the method and path but never the query (it may hold a selector). */
export function timeoutError(request: KubeRequest): Error {
  return new Error(
    `${request.method} ${request.path.split('?')[0]}: no response from the API server in ${request.timeoutMs} ms`,
  );
}
