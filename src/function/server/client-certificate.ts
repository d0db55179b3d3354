// Who may call the function: exactly the clients whose certificate a CA in ca.crt signed.
//
// Why not OpenSSL's verdict: Crossplane gives its CA and every certificate it issues one subject
// (O=Crossplane, CN=Crossplane) and, as Go does when issuer equals subject, no authority key
// identifier. OpenSSL then takes Crossplane's client certificate for a self-signed one
// (DEPTH_ZERO_SELF_SIGNED_CERT) and refuses it, although the CA signed it. Names alone prove
// nothing either (anyone can make a CA called Crossplane), so the check here is by signature, as
// Go's crypto/x509 does it: the certificate's signature verifies with the public key of a CA
// certificate in ca.crt whose subject is the certificate's issuer.
//
// What is refused, and why:
// - no certificate, or one no CA in ca.crt signed (another CA, even with the same subject);
// - a certificate outside its validity period, or signed by a CA outside its own;
// - a CA certificate: a client is a leaf (only the CA key's holder could present one anyway);
// - an extended key usage without clientAuth: Crossplane's own server certificates come from the
//   same CA and must not open calls (Go's gRPC servers, Crossplane's SDK among them, refuse them
//   the same way). A certificate without the extension may be used for anything (RFC 5280).
// Chains through intermediates are not followed: Crossplane's CA signs its leaves directly.
//
// Pure: the caller passes the time, and logs what comes back.
import { X509Certificate } from 'node:crypto';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';

export type ClientVerdict = { ok: true } | { ok: false; reason: string };

/** Every certificate in a PEM bundle (ca.crt may hold more than one CA, e.g. during a rotation). */
export function parseCertificateBundle(pem: Buffer | string): X509Certificate[] {
  const blocks = String(pem).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

function validity(cert: X509Certificate, now: Date): string | undefined {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (!(now.getTime() >= from)) return `not valid before ${cert.validFrom}`;
  if (!(now.getTime() <= to)) return `expired on ${cert.validTo}`;
  return undefined;
}

export function verifyClientCertificate(
  presented: X509Certificate | undefined,
  trusted: readonly X509Certificate[],
  now: Date,
): ClientVerdict {
  if (!presented) return { ok: false, reason: 'the client presented no certificate' };
  if (presented.ca) return { ok: false, reason: 'the client presented a CA certificate, not a client one' };
  const usages = presented.keyUsage;
  if (
    usages &&
    usages.length > 0 &&
    !usages.includes(CLIENT_AUTH) &&
    !usages.includes(ANY_EXTENDED_KEY_USAGE)
  ) {
    return {
      ok: false,
      reason: `the certificate is not for client authentication (extended key usage ${usages.join(', ')})`,
    };
  }
  const expiry = validity(presented, now);
  if (expiry) return { ok: false, reason: `the certificate is ${expiry}` };

  const signer = trusted.find((ca) => ca.ca && ca.subject === presented.issuer && signedBy(presented, ca));
  if (!signer) {
    return {
      ok: false,
      reason: `the certificate (issuer ${oneLine(presented.issuer)}) is not signed by a certificate in ca.crt`,
    };
  }
  const caExpiry = validity(signer, now);
  if (caExpiry) return { ok: false, reason: `the CA in ca.crt that signed it is ${caExpiry}` };
  return { ok: true };
}

function signedBy(cert: X509Certificate, ca: X509Certificate): boolean {
  try {
    return cert.verify(ca.publicKey);
  } catch {
    // A key of another type, or a signature algorithm OpenSSL does not know: not signed by it.
    return false;
  }
}

/** "C=Earth\nO=Crossplane\nCN=Crossplane" → "C=Earth, O=Crossplane, CN=Crossplane". */
export function oneLine(name: string): string {
  return name.replace(/\n/g, ', ');
}
