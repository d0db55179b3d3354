// TLS for the function server: Crossplane's package manager mounts tls.crt, tls.key and ca.crt
// and calls the function with a client certificate signed by the same CA. Unlike the SDK, the
// client certificate is required and verified: without it anyone who reaches the port could
// call the function (and read back what it composes).
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { TlsOptions } from './options.js';

export const TLS_FILES = { cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' } as const;

export class TlsConfigError extends Error {}

export interface LoadedCredentials {
  credentials: grpc.ServerCredentials;
  /** What to log at start-up: which certificate is served and until when (never key material). */
  certificate?: { subject: string; validTo: string };
}

export function serverCredentials(tls: TlsOptions): LoadedCredentials {
  if (tls.mode === 'insecure') return { credentials: grpc.ServerCredentials.createInsecure() };
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
    // Fail here, with the directory named, rather than inside bind on a bad PEM or a key that
    // does not match the certificate.
    createSecureContext({ ca, cert, key });
    const served = new X509Certificate(cert);
    return {
      // checkClientCertificate = true: the handshake fails without a client certificate from ca.crt.
      credentials: grpc.ServerCredentials.createSsl(ca, [{ private_key: key, cert_chain: cert }], true),
      certificate: { subject: served.subject.replace(/\n/g, ', '), validTo: served.validTo },
    };
  } catch (error) {
    throw new TlsConfigError(
      `cannot use the TLS files in ${tls.certsDir}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
