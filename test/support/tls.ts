// Throwaway certificates for the gRPC tests. makeTestPki: made with the machine's openssl, a CA, a
// server certificate for localhost/127.0.0.1, a client certificate from the same CA, and one from
// a different CA (which the server must refuse). makeCrossplanePki and friends: certificates
// shaped exactly as Crossplane generates them (see below).
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface KeyPair {
  cert: Buffer;
  key: Buffer;
}

export interface TestPki {
  /** Holds tls.crt, tls.key and ca.crt, as Crossplane mounts them for a function. */
  serverDir: string;
  ca: Buffer;
  client: KeyPair;
  /** Signed by another CA: the server must reject it. */
  strangerClient: KeyPair;
  cleanup(): void;
}

/** Runs openssl in `cwd`; `command` is split on whitespace (every name here is a plain word). */
function openssl(command: string, cwd: string): void {
  execFileSync('openssl', command.trim().split(/\s+/), { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const NEW_KEY = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';

function makeCa(dir: string, name: string): void {
  openssl(
    `req -x509 ${NEW_KEY} -keyout ${name}.key -out ${name}.crt -days 2 -subj /CN=${name}
     -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign`,
    dir,
  );
}

function makeLeaf(dir: string, name: string, ca: string, extensions: string): void {
  openssl(`req ${NEW_KEY} -keyout ${name}.key -out ${name}.csr -subj /CN=${name}`, dir);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(
    `x509 -req -in ${name}.csr -CA ${ca}.crt -CAkey ${ca}.key -CAcreateserial -out ${name}.crt -days 2
     -extfile ${name}.ext`,
    dir,
  );
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'pgplane-tls-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'stranger-ca');
  makeLeaf(
    dir,
    'server',
    'ca',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
  );
  const client = 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n';
  makeLeaf(dir, 'client', 'ca', client);
  makeLeaf(dir, 'stranger', 'stranger-ca', client);

  const serverDir = join(dir, 'server-dir');
  mkdirSync(serverDir);
  const read = (name: string): Buffer => readFileSync(join(dir, name));
  writeFileSync(join(serverDir, 'tls.crt'), read('server.crt'));
  writeFileSync(join(serverDir, 'tls.key'), read('server.key'));
  writeFileSync(join(serverDir, 'ca.crt'), read('ca.crt'));
  return {
    serverDir,
    ca: read('ca.crt'),
    client: { cert: read('client.crt'), key: read('client.key') },
    strangerClient: { cert: read('stranger.crt'), key: read('stranger.key') },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// ---------------------------------------------------------------------------------------------
// Certificates exactly as Crossplane makes them (internal/initializer/tls.go and
// cert_generator.go): RSA 2048 keys (PKCS#1 PEM), SHA-256 with RSA, serial 2022 for every
// certificate, the same subject C=Earth, ST=Earth, L=Earth, O=Crossplane, CN=Crossplane on the CA
// and on every leaf, so each leaf's issuer equals its own subject. Go gives the CA a subject key
// identifier and leaves none, and writes no authority key identifier when issuer equals subject.
// openssl cannot write such a subject (it refuses a five-letter country), so the certificates are
// DER-encoded here and signed with node:crypto.

const der = {
  tlv(tag: number, ...content: Buffer[]): Buffer {
    const body = Buffer.concat(content);
    const n = body.length;
    const length =
      n < 0x80
        ? Buffer.from([n])
        : n < 0x100
          ? Buffer.from([0x81, n])
          : n < 0x10000
            ? Buffer.from([0x82, n >> 8, n & 0xff])
            : Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
    return Buffer.concat([Buffer.from([tag]), length, body]);
  },
  seq: (...c: Buffer[]): Buffer => der.tlv(0x30, ...c),
  set: (...c: Buffer[]): Buffer => der.tlv(0x31, ...c),
  int(value: number): Buffer {
    const bytes: number[] = [];
    for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
    if (bytes.length === 0 || bytes[0]! & 0x80) bytes.unshift(0);
    return der.tlv(0x02, Buffer.from(bytes));
  },
  oid(dotted: string): Buffer {
    const parts = dotted.split('.').map(Number);
    const bytes = [40 * parts[0]! + parts[1]!];
    for (const part of parts.slice(2)) {
      const base128: number[] = [];
      for (let v = part; ; v = Math.floor(v / 128)) {
        base128.unshift((v % 128) | (base128.length ? 0x80 : 0));
        if (v < 128) break;
      }
      bytes.push(...base128);
    }
    return der.tlv(0x06, Buffer.from(bytes));
  },
  printable: (s: string): Buffer => der.tlv(0x13, Buffer.from(s, 'ascii')),
  bool: (b: boolean): Buffer => der.tlv(0x01, Buffer.from([b ? 0xff : 0])),
  octets: (...c: Buffer[]): Buffer => der.tlv(0x04, ...c),
  bits: (b: Buffer): Buffer => der.tlv(0x03, Buffer.from([0]), b),
  null: (): Buffer => Buffer.from([0x05, 0x00]),
  /** UTCTime before 2050, GeneralizedTime after, as RFC 5280 (and Go) encode validity. */
  time(date: Date): Buffer {
    const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
    return date.getUTCFullYear() < 2050
      ? der.tlv(0x17, Buffer.from(iso.slice(2), 'ascii'))
      : der.tlv(0x18, Buffer.from(iso, 'ascii'));
  },
};

const OID = {
  country: '2.5.4.6',
  province: '2.5.4.8',
  locality: '2.5.4.7',
  organization: '2.5.4.10',
  commonName: '2.5.4.3',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  subjectKeyId: '2.5.29.14',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** Crossplane's pkixName, in the order Go writes a pkix.Name. */
const CROSSPLANE_NAME = der.seq(
  ...(
    [
      [OID.country, 'Earth'],
      [OID.province, 'Earth'],
      [OID.locality, 'Earth'],
      [OID.organization, 'Crossplane'],
      [OID.commonName, 'Crossplane'],
    ] as const
  ).map(([oid, value]) => der.set(der.seq(der.oid(oid), der.printable(value)))),
);

/** x509.KeyUsage bits as Go encodes them: bit 0 is the most significant bit of the first byte. */
function keyUsage(bits: readonly number[]): Buffer {
  let mask = 0;
  for (const bit of bits) mask |= 0x8000 >> bit;
  const bytes = mask & 0xff ? Buffer.from([mask >> 8, mask & 0xff]) : Buffer.from([mask >> 8]);
  const last = bytes[bytes.length - 1]!;
  let unused = 0;
  while (unused < 7 && !(last & (1 << unused))) unused++;
  return der.tlv(0x03, Buffer.from([unused]), bytes);
}
const KU = { digitalSignature: 0, keyEncipherment: 2, dataEncipherment: 3, certSign: 5, crlSign: 6 };

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return der.seq(der.oid(oid), ...(critical ? [der.bool(true)] : []), der.octets(value));
}

export interface CrossplaneCertTemplate {
  /** Whose key signs it; absent: the certificate signs itself (a CA). */
  signer?: CrossplaneKeyPair;
  isCa?: boolean;
  /** Extended key usages by name; Crossplane sets serverAuth on servers and clientAuth on clients. */
  extKeyUsage?: readonly ('serverAuth' | 'clientAuth')[];
  dnsNames: readonly string[];
  notBefore?: Date;
  notAfter?: Date;
}

export interface CrossplaneKeyPair extends KeyPair {
  privateKey: KeyObject;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** One certificate and its key, built from Crossplane's template (tls.go). */
export function crossplaneCertificate(t: CrossplaneCertTemplate): CrossplaneKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const now = Date.now();
  const notBefore = t.notBefore ?? new Date(now);
  // Go: time.Now().AddDate(10, 0, 0)
  const notAfter = t.notAfter ?? new Date(now + 3652 * DAY_MS);
  const extensions: Buffer[] = [
    extension(
      OID.keyUsage,
      true,
      keyUsage(
        t.isCa ? [KU.certSign, KU.crlSign] : [KU.digitalSignature, KU.keyEncipherment, KU.dataEncipherment],
      ),
    ),
  ];
  if (t.extKeyUsage?.length) {
    extensions.push(extension(OID.extKeyUsage, false, der.seq(...t.extKeyUsage.map((u) => der.oid(OID[u])))));
  }
  extensions.push(extension(OID.basicConstraints, true, der.seq(...(t.isCa ? [der.bool(true)] : []))));
  if (t.isCa) {
    // Go (1.15+) derives a CA's subject key identifier from the SHA-1 of its public key bits.
    // The key bits follow the SPKI's algorithm identifier and the BIT STRING header (24 bytes for RSA 2048).
    const keyBits = spki.subarray(24);
    extensions.push(
      extension(OID.subjectKeyId, false, der.octets(createHash('sha1').update(keyBits).digest())),
    );
  }
  // dNSName is [2] IMPLICIT IA5String.
  extensions.push(
    extension(
      OID.subjectAltName,
      false,
      der.seq(...t.dnsNames.map((n) => der.tlv(0x82, Buffer.from(n, 'ascii')))),
    ),
  );
  const algorithm = der.seq(der.oid(OID.sha256WithRsa), der.null());
  const tbs = der.seq(
    der.tlv(0xa0, der.int(2)), // v3
    der.int(2022), // Crossplane's serial number, for every certificate
    algorithm,
    CROSSPLANE_NAME, // issuer: the CA's subject, which is this one
    der.seq(der.time(notBefore), der.time(notAfter)),
    CROSSPLANE_NAME,
    spki,
    der.tlv(0xa3, der.seq(...extensions)),
  );
  const signature = sign('sha256', tbs, t.signer?.privateKey ?? privateKey);
  const cert = der.seq(tbs, algorithm, der.bits(signature));
  const pem = `-----BEGIN CERTIFICATE-----\n${cert.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
  return {
    cert: Buffer.from(pem.replace(/\n\n/g, '\n')),
    key: Buffer.from(privateKey.export({ type: 'pkcs1', format: 'pem' })),
    privateKey,
  };
}

export interface CrossplanePki {
  /** tls.crt, tls.key and ca.crt as Crossplane writes the function's server Secret. */
  serverDir: string;
  ca: CrossplaneKeyPair;
  /** Crossplane's own client certificate (the crossplane-tls-client Secret). */
  client: CrossplaneKeyPair;
  cleanup(): void;
}

/** Crossplane's root CA (crossplane-root-ca), or a stranger's made from the same template. */
export function crossplaneCa(): CrossplaneKeyPair {
  return crossplaneCertificate({ isCa: true, dnsNames: ['crossplane-root-ca'] });
}

/** A client certificate as Crossplane makes its own, signed by `ca`; `overrides` bend the template. */
export function crossplaneClient(
  ca: CrossplaneKeyPair,
  overrides: Partial<CrossplaneCertTemplate> = {},
): CrossplaneKeyPair {
  return crossplaneCertificate({
    signer: ca,
    extKeyUsage: ['clientAuth'],
    dnsNames: ['crossplane'],
    ...overrides,
  });
}

/** The function's server Secret for Service `function-pgplane` in `crossplane-system`, plus 127.0.0.1's name. */
export function makeCrossplanePki(): CrossplanePki {
  const dir = mkdtempSync(join(tmpdir(), 'pgplane-xp-tls-'));
  const ca = crossplaneCa();
  const server = crossplaneCertificate({
    signer: ca,
    extKeyUsage: ['serverAuth'],
    // DNSNamesForService(service, namespace); the test connects as "localhost".
    dnsNames: [
      'function-pgplane',
      'function-pgplane.crossplane-system',
      'function-pgplane.crossplane-system.svc',
      'localhost',
    ],
  });
  writeFileSync(join(dir, 'tls.crt'), server.cert);
  writeFileSync(join(dir, 'tls.key'), server.key);
  writeFileSync(join(dir, 'ca.crt'), ca.cert);
  return {
    serverDir: dir,
    ca,
    client: crossplaneClient(ca),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
