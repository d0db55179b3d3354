// A KubeConfig whose API clients reuse their connections to the API server. @kubernetes/client-node
// 1.x builds a new https.Agent for every request, so every call (a Grant's GET, finalizer patch,
// status patch, Event) paid a fresh TLS handshake and SecureContext: 40 % of the provider's CPU at
// 500 Grants in the bench's CPU profile. Here one keep-alive agent serves every call; it is rebuilt
// when the TLS material changes (a rotated client certificate). Bearer tokens are headers, applied
// per request as before. A proxied cluster keeps the library's own agents.
import https from 'node:https';
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';

export class KeepAliveKubeConfig extends KubeConfig {
  private shared: { readonly material: string; readonly agent: https.Agent } | undefined;

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const made = context.getAgent();
    if (this.getCurrentCluster()?.proxyUrl || !(made instanceof https.Agent)) return;
    const o = made.options;
    const material = JSON.stringify(
      [o.ca, o.cert, o.key, o.pfx, o.passphrase, o.servername, o.rejectUnauthorized].map((v) =>
        v === undefined ? null : String(v),
      ),
    );
    if (this.shared?.material !== material) {
      this.shared?.agent.destroy();
      // No maxSockets: a request queued behind another on one socket makes node-fetch 2 report a
      // complete response as "Premature close" (node-fetch/node-fetch#1767). The queue's
      // concurrency already bounds how many requests are in flight.
      this.shared = { material, agent: new https.Agent({ ...o, keepAlive: true }) };
    }
    context.setAgent(this.shared.agent);
  }
}
