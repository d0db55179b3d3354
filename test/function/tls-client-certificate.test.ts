// verifyClientCertificate() on its own: the cases a real socket cannot reach cheaply (a ca.crt
// holding two CAs during a rotation, a CA past its validity). The socket-level behaviour, with
// Crossplane's own certificates, is in grpc-server.test.ts.
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  parseCertificateBundle,
  verifyClientCertificate,
} from '../../src/function/server/client-certificate.js';
import { crossplaneCa, crossplaneCertificate, crossplaneClient } from '../support/tls.js';

const DAY = 24 * 60 * 60 * 1000;
const x509 = (pem: Buffer): X509Certificate => new X509Certificate(pem);

describe('verifyClientCertificate', () => {
  const oldCa = crossplaneCa();
  const newCa = crossplaneCa();
  const bundle = parseCertificateBundle(Buffer.concat([oldCa.cert, newCa.cert]));

  it('reads every certificate of a ca.crt bundle', () => {
    expect(bundle.map((c) => c.fingerprint256)).toEqual([
      x509(oldCa.cert).fingerprint256,
      x509(newCa.cert).fingerprint256,
    ]);
  });

  it('accepts a client of either CA in ca.crt, though both CAs and the client share one subject', () => {
    const [ofOld, ofNew] = [crossplaneClient(oldCa), crossplaneClient(newCa)];
    // After the certificates were made: each is valid from the second it was made.
    const now = new Date();
    expect(verifyClientCertificate(x509(ofOld.cert), bundle, now)).toEqual({ ok: true });
    expect(verifyClientCertificate(x509(ofNew.cert), bundle, now)).toEqual({ ok: true });
    expect(verifyClientCertificate(x509(ofNew.cert), [bundle[0]!], now)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not signed by a certificate in ca.crt') as unknown as string,
    });
  });

  it('refuses a client whose CA is outside its own validity period', () => {
    const now = Date.now();
    const lapsed = crossplaneCertificate({
      isCa: true,
      dnsNames: ['crossplane-root-ca'],
      notBefore: new Date(now - 10 * DAY),
      notAfter: new Date(now - DAY),
    });
    const client = crossplaneClient(lapsed);
    expect(verifyClientCertificate(x509(client.cert), [x509(lapsed.cert)], new Date())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^the CA in ca\.crt that signed it is expired on /) as unknown as string,
    });
  });

  it('accepts a client certificate without an extended key usage (any use, RFC 5280)', () => {
    const client = crossplaneClient(oldCa, { extKeyUsage: [] });
    expect(x509(client.cert).keyUsage ?? []).toEqual([]);
    expect(verifyClientCertificate(x509(client.cert), bundle, new Date())).toEqual({ ok: true });
  });
});
