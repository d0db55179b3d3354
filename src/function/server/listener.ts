// The function's listening socket. pgplane owns it, not grpc-js, for two reasons:
//
// 1. Client certificates. grpc-js leaves the verdict to OpenSSL, which refuses Crossplane's own
//    client certificate (see client-certificate.ts). Here TLS asks for a certificate without
//    rejecting any, and a connection reaches gRPC only once verifyClientCertificate() accepted
//    the certificate; any other is destroyed before a byte of HTTP/2 is read from it.
// 2. Every connection ends when pgplane says so. A socket grpc-js has not turned into a session
//    (a TCP client that never speaks, a TLS handshake that never ends) and a socket whose peer
//    stopped reading (a graceful close waits for a flush that never comes) would otherwise keep
//    the process alive after a drain; here each one is tracked and destroyed. The same tracking
//    tells the drain when no connection is left open, which gRPC alone does not (see server.ts).
//
// Connections that pass are handed, as duplex streams, to gRPC (grpc-js's connection injector).
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { oneLine, verifyClientCertificate } from './client-certificate.js';
import type { TransportSecurity } from './credentials.js';

export interface ListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly security: TransportSecurity;
  /** A TLS handshake (the client's certificate included) must end within this. */
  readonly handshakeTimeoutMs: number;
  /**
   * A connection with no byte read or written for this long is destroyed. gRPC's keepalive pings
   * make traffic on every live connection well within it (see server.ts).
   */
  readonly inactivityTimeoutMs: number;
  readonly logger: Logger;
  /** A connection ready for HTTP/2: plaintext, or TLS with an accepted client certificate. */
  readonly onConnection: (connection: Socket) => void;
  readonly now?: () => Date;
}

export interface Listener {
  readonly port: number;
  /**
   * Accepts no more connections, destroys those not yet handed to gRPC, and from now on destroys
   * a connection gRPC has finished with (its side ended) once the peer had `lingerMs` to close.
   */
  stopAccepting(lingerMs: number): void;
  /** Destroys every connection, handed over or not. */
  destroyAll(): void;
  /**
   * Resolves once no connection is open (each one handed to gRPC has closed, and each one not
   * handed over has closed its TCP connection). Meant for after stopAccepting(), when no new one
   * can come.
   */
  closed(): Promise<void>;
}

export async function listen(opts: ListenerOptions): Promise<Listener> {
  const { logger, security } = opts;
  const now = opts.now ?? (() => new Date());
  /**
   * Every TCP connection by its peer's address and port (one listening address, so the peer
   * names the connection), with the stream gRPC reads it through once it is handed over.
   */
  const connections = new Map<string, { raw: Socket; handed?: Socket }>();
  const peerOf = (socket: Socket): string => `${socket.remoteAddress}|${socket.remotePort}`;
  // The waiters of closed(), resolved by the close of the last open connection.
  let waitingForNone: (() => void)[] = [];
  const settle = (): void => {
    if (waitingForNone.length === 0) return;
    // A TLS connection is done when its TLS stream has closed, whether or not the TCP socket
    // under it has said so yet.
    for (const { raw, handed } of connections.values()) if (!(handed ?? raw).closed) return;
    const waiting = waitingForNone;
    waitingForNone = [];
    for (const resolve of waiting) resolve();
  };

  const handOver = (connection: Socket): void => {
    const tracked = connections.get(peerOf(connection));
    if (!tracked) {
      // Its TCP connection closed already.
      connection.destroy();
      return;
    }
    tracked.handed = connection;
    connection.once('close', settle);
    connection.setNoDelay(true);
    connection.setTimeout(opts.inactivityTimeoutMs, () => {
      logger.debug({ remote: connection.remoteAddress }, 'closing a connection with no traffic');
      connection.destroy();
    });
    opts.onConnection(connection);
  };

  let server: Server;
  if (security.mode === 'mtls') {
    const tlsServer = createTlsServer({
      key: security.key,
      cert: security.cert,
      ca: security.ca,
      requestCert: true,
      // The verdict is verifyClientCertificate()'s, below; OpenSSL's would refuse Crossplane.
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
      minVersion: 'TLSv1.2',
      handshakeTimeout: opts.handshakeTimeoutMs,
    });
    tlsServer.on('secureConnection', (socket: TLSSocket) => {
      // The TLS stream's own errors (a reset mid-call); nodejs/node#35824 says the server's user handles them.
      socket.on('error', (error) => logger.debug({ err: error.message }, 'TLS connection error'));
      const peer = socket.getPeerX509Certificate();
      const verdict = verifyClientCertificate(peer, security.trusted, now());
      if (!verdict.ok) {
        logger.warn(
          {
            remote: socket.remoteAddress,
            reason: verdict.reason,
            ...(peer ? { subject: oneLine(peer.subject), issuer: oneLine(peer.issuer) } : {}),
          },
          'refused a client certificate',
        );
        socket.destroy();
        return;
      }
      if (socket.alpnProtocol !== 'h2') {
        logger.warn(
          { remote: socket.remoteAddress },
          'refused a TLS client that does not speak HTTP/2 (ALPN h2)',
        );
        socket.destroy();
        return;
      }
      handOver(socket);
    });
    tlsServer.on('tlsClientError', (error, socket) => {
      logger.debug({ remote: socket.remoteAddress, err: error.message }, 'TLS handshake failed');
    });
    server = tlsServer;
  } else {
    server = createTcpServer();
  }

  server.on('connection', (raw: Socket) => {
    const peer = peerOf(raw);
    connections.set(peer, { raw });
    // A reset connection must not become an unhandled 'error' that ends the process.
    raw.on('error', (error) => logger.debug({ err: error.message }, 'connection error'));
    raw.once('close', () => {
      connections.delete(peer);
      settle();
    });
    if (security.mode === 'insecure') handOver(raw);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => logger.error({ err: error.message }, 'listening socket error'));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;

  let reaper: NodeJS.Timeout | undefined;
  return {
    port,
    stopAccepting(lingerMs) {
      server.close();
      for (const { raw, handed } of connections.values()) if (!handed) raw.destroy();
      // A graceful HTTP/2 close ends the server's side and then waits for the client to close
      // its own; a client that never does (silent, gone, or no longer reading) would hold the
      // drain to its timeout and the process past it.
      const endedAt = new Map<Socket, number>();
      reaper ??= setInterval(
        () => {
          const t = Date.now();
          for (const { handed } of connections.values()) {
            if (!handed?.writableEnded) continue;
            const since = endedAt.get(handed) ?? t;
            endedAt.set(handed, since);
            if (t - since >= lingerMs) handed.destroy();
          }
        },
        Math.max(10, Math.min(100, lingerMs)),
      );
      reaper.unref();
    },
    destroyAll() {
      if (reaper) clearInterval(reaper);
      server.close();
      for (const { raw, handed } of connections.values()) {
        handed?.destroy();
        raw.destroy();
      }
    },
    closed() {
      return new Promise((resolve) => {
        waitingForNone.push(resolve);
        settle();
      });
    },
  };
}
