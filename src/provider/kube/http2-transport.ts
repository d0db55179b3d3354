// HTTP/2 to the API server, as client-go speaks it: every request and watch is a stream on one
// TLS connection. HTTP/1.1 needs a connection per request in flight: a burst of 50 reconciles
// opened 50, each a TLS handshake (about 2 ms of CPU here, more in the API server) and about
// 0.2 MiB resident, which is most of what the provider grew by in bench/provider-peers at 50
// Grants. A server that does not offer h2 in the TLS handshake (ALPN) gets HTTP/1.1 instead.
import {
  connect as connectHttp2,
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { isIP } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import type { KubeTls } from './config.js';
import { Http1Transport } from './http1-transport.js';
import {
  hostOf,
  timeoutError,
  type KubeRequest,
  type KubeResponse,
  type KubeTransport,
  type OnConnection,
} from './transport.js';

const CONNECT_TIMEOUT_MS = 30_000;
/** As client-go: a PING after 30 s without a frame; no answer in 15 s and the connection is dead. */
const PING_IDLE_MS = 30_000;
const PING_TIMEOUT_MS = 15_000;
/**
 * Flow-control windows. With HTTP/2's default of 64 KiB a LIST of a few thousand objects stalls
 * on window updates; the body is read as it arrives, so a window is credit, not memory held.
 */
const STREAM_WINDOW = 1 << 20;
const CONNECTION_WINDOW = 4 << 20;

/** One HTTP/2 connection and the streams open on it (the process is kept alive while any are). */
class Connection {
  streams = 0;

  constructor(readonly session: ClientHttp2Session) {}

  get usable(): boolean {
    return !this.session.closed && !this.session.destroyed;
  }

  opened(stream: ClientHttp2Stream): void {
    if (this.streams++ === 0) this.session.ref();
    stream.once('close', () => {
      if (--this.streams === 0) this.session.unref();
    });
  }
}

type Wire = Connection | Http1Transport;

/** A stream the server refused before processing it (after its GOAWAY): safe to send again. */
class RefusedStream extends Error {}

export class Http2Transport implements KubeTransport {
  private wire: Promise<Wire> | undefined;
  /** The h2 connection `wire` resolved to, so a closed one is forgotten at once. */
  private live: Connection | undefined;
  private closed = false;

  constructor(
    private readonly server: URL,
    private readonly tls: KubeTls,
    private readonly onConnection: OnConnection = () => undefined,
  ) {}

  async send(request: KubeRequest): Promise<KubeResponse> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed)
        throw new Error(`${request.method} ${request.path.split('?')[0]}: the client is closed`);
      const wire = await this.current();
      if (wire instanceof Http1Transport) return wire.send(request);
      try {
        return await this.stream(wire, request);
      } catch (error) {
        if (!(error instanceof RefusedStream) || attempt > 0) throw error;
      }
    }
  }

  /** The connection requests go over, opened on first use and again after it closes. */
  private async current(): Promise<Wire> {
    const wire = await (this.wire ??= this.connect().catch((error: unknown) => {
      this.wire = undefined;
      throw error;
    }));
    if (wire instanceof Connection && !wire.usable) {
      this.forget(wire);
      return this.current();
    }
    return wire;
  }

  private forget(connection: Connection): void {
    if (this.live !== connection) return;
    this.live = undefined;
    this.wire = undefined;
  }

  private connect(): Promise<Wire> {
    const host = hostOf(this.server);
    return new Promise((resolve, reject) => {
      const socket = connectTls({
        host,
        port: Number(this.server.port || 443),
        // SNI as https.request sends it: the host name, never an IP address.
        servername: this.tls.servername ?? (isIP(host) ? undefined : host),
        ca: this.tls.ca,
        cert: this.tls.cert,
        key: this.tls.key,
        rejectUnauthorized: this.tls.rejectUnauthorized,
        ALPNProtocols: ['h2', 'http/1.1'],
      });
      const fail = (error: Error) => {
        socket.destroy();
        reject(error);
      };
      socket.setTimeout(CONNECT_TIMEOUT_MS, () =>
        fail(
          new Error(
            `${this.server.origin}: no TLS handshake with the API server in ${CONNECT_TIMEOUT_MS} ms`,
          ),
        ),
      );
      socket.once('error', fail);
      socket.once('secureConnect', () => {
        socket.setTimeout(0);
        socket.off('error', fail);
        if (socket.alpnProtocol === 'h2') {
          this.onConnection('h2');
          resolve(this.open(socket));
        } else {
          socket.destroy();
          resolve(new Http1Transport(this.server, this.tls, this.onConnection));
        }
      });
    });
  }

  private open(socket: TLSSocket): Connection {
    const session = connectHttp2(this.server.origin, {
      createConnection: () => socket,
      settings: { enablePush: false, initialWindowSize: STREAM_WINDOW },
    });
    const connection = new Connection(session);
    this.live = connection;
    // A connection that ends, fails or is told to go away takes no new streams; the next request
    // opens another. Its streams in flight fail (or finish, after a GOAWAY) on their own.
    const forget = () => this.forget(connection);
    session.on('goaway', forget).on('close', forget).on('error', forget);
    session.once('connect', () => session.setLocalWindowSize(CONNECTION_WINDOW));
    session.setTimeout(PING_IDLE_MS, () => {
      if (connection.streams === 0) return;
      const dead = setTimeout(
        () => session.destroy(new Error('the API server did not answer a PING')),
        PING_TIMEOUT_MS,
      );
      session.ping(() => clearTimeout(dead));
    });
    session.unref();
    return connection;
  }

  private stream(connection: Connection, request: KubeRequest): Promise<KubeResponse> {
    return new Promise((resolve, reject) => {
      const headers: OutgoingHttpHeaders = {
        ...request.headers,
        [constants.HTTP2_HEADER_METHOD]: request.method,
        [constants.HTTP2_HEADER_PATH]: request.path,
      };
      let stream: ClientHttp2Stream;
      try {
        stream = connection.session.request(headers, {
          endStream: request.body === undefined,
          ...(request.signal ? { signal: request.signal } : {}),
        });
      } catch (error) {
        // The connection closed between the check and the request: nothing was sent.
        this.forget(connection);
        reject(new RefusedStream((error as Error).message));
        return;
      }
      connection.opened(stream);
      let answered = false;
      stream.setTimeout(request.timeoutMs, () => stream.destroy(timeoutError(request)));
      stream.on('error', (error) =>
        reject(
          !answered && stream.rstCode === constants.NGHTTP2_REFUSED_STREAM
            ? new RefusedStream(error.message)
            : error,
        ),
      );
      stream.once('response', (responseHeaders) => {
        answered = true;
        resolve({ status: Number(responseHeaders[constants.HTTP2_HEADER_STATUS] ?? 500), body: stream });
      });
      if (request.body !== undefined) stream.end(request.body);
    });
  }

  close(): void {
    this.closed = true;
    const wire = this.wire;
    this.wire = undefined;
    this.live = undefined;
    void wire
      ?.then((w) => (w instanceof Http1Transport ? w.close() : w.session.close()))
      .catch(() => undefined);
  }
}
