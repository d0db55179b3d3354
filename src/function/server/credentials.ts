// TLS for the function server: Crossplane's package manager mounts tls.crt, tls.key and ca.crt
// and calls the function with a client certificate signed by the same CA. Unlike the SDK, the
// client certificate is required and verified: without it anyone who reaches the port could
// call the function (and read back what it composes). The check itself is client-certificate.ts;
// this module reads and checks the files.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { oneLine, parseCertificateBundle } from './client-certificate.js';
import type { TlsOptions } from './options.js';

const TLS_FILES = { cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' } as const;

export class TlsConfigError extends Error {}

/** What the listener needs for mutual TLS. */
interface MutualTls {
  readonly key: Buffer;
  readonly cert: Buffer;
  /** ca.crt as read: its names go to clients in the handshake's certificate request. */
  readonly ca: Buffer;
  /** ca.crt's certificates: a client certificate must be signed by one of them. */
  readonly trusted: readonly X509Certificate[];
}

export type TransportSecurity = { mode: 'insecure' } | ({ mode: 'mtls' } & MutualTls);

export interface LoadedCredentials {
  security: TransportSecurity;
  /** What to log at start-up: which certificate is served and until when (never key material). */
  certificate?: { subject: string; validTo: string };
}

export function serverCredentials(tls: TlsOptions): LoadedCredentials {
  if (tls.mode === 'insecure') return { security: { mode: 'insecure' } };
  const read = (name: string): Buffer => {
    const path = join(tls.certsDir, name);
    try {
      return readFileSync(path);
    } catch (error) {
      const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
      throw new TlsConfigError(`cannot read TLS file ${path} (${reason})`);
    }
  };
  const ca = read(TLS_FILES.ca);
  const cert = read(TLS_FILES.cert);
  const key = read(TLS_FILES.key);
  try {
    // Fail here, with the directory named, rather than at the first handshake on a bad PEM or a
    // key that does not match the certificate.
    createSecureContext({ ca, cert, key });
    const trusted = parseCertificateBundle(ca).filter((c) => c.ca);
    if (trusted.length === 0) throw new Error(`${TLS_FILES.ca} holds no CA certificate`);
    const served = new X509Certificate(cert);
    return {
      security: { mode: 'mtls', key, cert, ca, trusted },
      certificate: { subject: oneLine(served.subject), validTo: served.validTo },
    };
  } catch (error) {
    throw new TlsConfigError(
      `cannot use the TLS files in ${tls.certsDir}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
