// HTTP/1.1 to the API server: for http:// servers, and https servers that do not speak h2 (a
// proxy in front of the API server, say). Requests share a bounded pool of kept-alive connections
// so a reconcile's patches and Event reuse warm TLS connections (a handshake per request had been
// 40 % of the provider's CPU); each watch has a connection of its own for as long as it runs, so
// a long watch never takes a request's place.
import { Agent as HttpAgent, request as httpRequest, type AgentOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { KubeTls } from './config.js';
import {
  hostOf,
  timeoutError,
  type KubeRequest,
  type KubeResponse,
  type KubeTransport,
  type OnConnection,
} from './transport.js';

/**
 * As many as a burst of reconciles keeps in flight (--concurrency 50 and their Events): 8 saved
 * ~3 MiB at 500 Grants but made them Ready ~1.2 s later in bench/provider-peers.
 */
const REQUEST_SOCKETS = 64;

export class Http1Transport implements KubeTransport {
  private readonly requests: HttpAgent;
  private readonly watches: HttpAgent;

  constructor(
    private readonly server: URL,
    tls: KubeTls | undefined,
    onConnection: OnConnection = () => undefined,
  ) {
    const make = (options: AgentOptions) =>
      tls ? new HttpsAgent({ ...tls, ...options }) : new HttpAgent(options);
    this.requests = make({ keepAlive: true, maxSockets: REQUEST_SOCKETS, maxFreeSockets: REQUEST_SOCKETS });
    this.watches = make({ keepAlive: false });
    // An Agent emits no event per connection; count the sockets it creates.
    for (const agent of [this.requests, this.watches]) {
      const create = agent.createConnection.bind(agent);
      agent.createConnection = ((...args: Parameters<typeof create>) => {
        onConnection('http/1.1');
        return create(...args);
      }) as typeof agent.createConnection;
    }
  }

  send(request: KubeRequest): Promise<KubeResponse> {
    const https = this.server.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        {
          method: request.method,
          protocol: this.server.protocol,
          hostname: hostOf(this.server),
          port: this.server.port || (https ? 443 : 80),
          path: request.path,
          headers: request.headers,
          agent: request.signal ? this.watches : this.requests,
          ...(request.signal ? { signal: request.signal } : {}),
        },
        (res) => resolve({ status: res.statusCode ?? 500, body: res }),
      );
      req.setTimeout(request.timeoutMs, () => req.destroy(timeoutError(request)));
      req.on('error', reject);
      req.end(request.body);
    });
  }

  close(): void {
    // Idle sockets go now; one in use goes when its response ends instead of being kept alive.
    // Watches end at their timeoutSeconds.
    this.requests.keepSocketAlive = () => false;
    for (const sockets of Object.values(this.requests.freeSockets))
      for (const socket of sockets ?? []) socket.destroy();
  }
}
