// Throwaway certificates for the gRPC tests, made with the machine's openssl: a CA, a server
// certificate for localhost/127.0.0.1, a client certificate from the same CA, and a client
// certificate from a different CA (which the server must refuse).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
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
