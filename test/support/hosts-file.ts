// Names for 127.0.0.1 in /etc/hosts, for the control-plane suite: Crossplane dials a function at
// its Service's DNS name (dns:///<service>.<namespace>:9443) and checks the certificate against
// it, and the provider connects to "<cluster>-rw.<namespace>.svc". With no cluster DNS here, the
// suite maps those names to 127.0.0.1 for its run and puts the file back exactly as it was.
import { readFileSync, writeFileSync } from 'node:fs';

const HOSTS = '/etc/hosts';
const MARK = '# pgplane control-plane test';

export class HostsFile {
  private readonly original: string;
  private readonly names = new Set<string>();

  constructor(private readonly path = HOSTS) {
    this.original = readFileSync(path, 'utf8');
  }

  /** Maps the names to 127.0.0.1 (rewrites the file; cheap, and Go and Node read it per lookup). */
  add(...names: string[]): void {
    const before = this.names.size;
    for (const name of names) this.names.add(name);
    if (this.names.size === before) return;
    const lines = [...this.names].map((name) => `127.0.0.1 ${name} ${MARK}`);
    const base = this.original.endsWith('\n') ? this.original : `${this.original}\n`;
    writeFileSync(this.path, `${base}${lines.join('\n')}\n`);
  }

  /** Puts back what was there before the first add(). Idempotent. */
  restore(): void {
    if (this.names.size === 0) return;
    writeFileSync(this.path, this.original);
    this.names.clear();
  }
}
