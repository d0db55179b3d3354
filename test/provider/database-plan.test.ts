// The Database plan on its own: what CREATE DATABASE looks like (every name quoted, however
// hostile), which ALTERs an existing database gets, and how each setting CREATE DATABASE fixes is
// refused with the server's value, the spec's and the way out. No PostgreSQL: database.pg.test.ts
// runs these statements against real servers.
import { describe, expect, it } from 'vitest';
import { databaseParameters, type DatabaseParameters } from '../../src/api/database.js';
import { DatabaseClient } from '../../src/provider/database/client.js';
import { ownershipComment, type Owner } from '../../src/provider/managed/ownership.js';
import type { DatabaseFacts, ObservedDatabase } from '../../src/provider/database/observe.js';
import { planDatabase, sameLocale, type DatabasePlanInput } from '../../src/provider/database/plan.js';

const OWNER: Owner = {
  kind: 'Database',
  namespace: 'team',
  name: 'orders',
  uid: '0a1b2c3d-0000-4000-8000-000000000001',
};
const MARK = ownershipComment(OWNER);

const spec = (fields: Record<string, unknown> = {}): DatabaseParameters =>
  databaseParameters.parse({ name: 'orders', ...fields });

function existing(fields: Partial<ObservedDatabase> = {}): ObservedDatabase {
  return {
    name: 'orders',
    owner: 'orders_owner',
    ownedBySessionUser: false,
    encoding: 'UTF8',
    lcCollate: 'C',
    lcCtype: 'C',
    localeProvider: 'libc',
    connectionLimit: -1,
    invalid: false,
    comment: MARK,
    ...fields,
  };
}

const facts = (database?: ObservedDatabase, more: Partial<DatabaseFacts> = {}): DatabaseFacts => ({
  serverVersion: 150_004,
  database,
  ...more,
});

const plan = (input: Partial<DatabasePlanInput> & { spec: DatabaseParameters; facts: DatabaseFacts }) =>
  planDatabase({ owner: OWNER, adopt: false, observeOnly: false, ...input });

describe('a missing database', () => {
  it('is created with every setting of the spec, then marked as this Database’s', () => {
    const p = plan({
      spec: spec({
        owner: 'orders_owner',
        encoding: 'UTF8',
        locale: 'C',
        template: 'template0',
        connectionLimit: 20,
      }),
      facts: facts(undefined, { requestedEncoding: 'UTF8' }),
    });
    expect(p.problem).toBeUndefined();
    expect(p.create?.sql).toBe(
      `CREATE DATABASE "orders" WITH TEMPLATE "template0" ENCODING 'UTF8' LOCALE_PROVIDER libc LOCALE 'C' CONNECTION LIMIT 20`,
    );
    // The owner comes after the mark, in one transaction: until it commits the session owns the
    // new database, so a failure can still drop it.
    expect(p.statements.map((s) => s.sql)).toEqual([
      `COMMENT ON DATABASE "orders" IS 'managed by grants.pgplane.io Database team/orders (uid ${OWNER.uid})'`,
      'ALTER DATABASE "orders" OWNER TO "orders_owner"',
    ]);
    expect(p.drift).toEqual(['database "orders" does not exist']);
  });

  it('leaves out what the spec leaves out: the template’s encoding and locale, the session’s role', () => {
    const p = plan({ spec: spec(), facts: facts() });
    expect(p.create?.sql).toBe('CREATE DATABASE "orders" WITH CONNECTION LIMIT -1');
  });

  it('names no locale provider on PostgreSQL 14, which has none to name', () => {
    const p = plan({ spec: spec({ locale: 'C' }), facts: facts(undefined, { serverVersion: 140_011 }) });
    expect(p.create?.sql).toBe(`CREATE DATABASE "orders" WITH LOCALE 'C' CONNECTION LIMIT -1`);
  });

  it('spells a locale overridden by lcCollate or lcCtype as LC_COLLATE and LC_CTYPE (PostgreSQL refuses LOCALE with them)', () => {
    const p = plan({ spec: spec({ locale: 'C', lcCtype: 'C.UTF-8' }), facts: facts() });
    expect(p.create?.sql).toBe(
      `CREATE DATABASE "orders" WITH LOCALE_PROVIDER libc LC_COLLATE 'C' LC_CTYPE 'C.UTF-8' CONNECTION LIMIT -1`,
    );
  });

  it.each([
    ['a double quote', 'or"ders', '"or""ders"'],
    ['an injection attempt', '"; DROP DATABASE x; --', '"""; DROP DATABASE x; --"'],
    ['a single quote and spaces', "o'rders and more", `"o'rders and more"`],
    ['unicode', 'bestellungen_ü_日本', '"bestellungen_ü_日本"'],
  ])(
    'quotes a name with %s as one identifier, in CREATE, COMMENT and OWNER TO',
    (_what, name, quotedName) => {
      const p = plan({ spec: spec({ name, owner: name }), facts: facts() });
      expect(p.create?.sql).toBe(`CREATE DATABASE ${quotedName} WITH CONNECTION LIMIT -1`);
      expect(p.statements[0]?.sql.startsWith(`COMMENT ON DATABASE ${quotedName} IS 'managed by`)).toBe(true);
      expect(p.statements[1]?.sql).toBe(`ALTER DATABASE ${quotedName} OWNER TO ${quotedName}`);
    },
  );

  it('quotes encoding and locale as literals', () => {
    // The schema only admits plain setting names; the statement does not rely on it.
    const hostile = { ...spec(), encoding: "UTF8' TEMPLATE template1 --", locale: "C'x" };
    const p = plan({ spec: hostile, facts: facts() });
    expect(p.create?.sql).toContain(`ENCODING 'UTF8'' TEMPLATE template1 --'`);
    expect(p.create?.sql).toContain(`LOCALE 'C''x'`);
  });

  it('refuses an encoding the server does not know, before creating anything', () => {
    const p = plan({
      spec: spec({ encoding: 'KLINGON' }),
      facts: facts(undefined, { requestedEncoding: '' }),
    });
    expect(p.create).toBeUndefined();
    expect(p.problem).toContain('encoding KLINGON is not an encoding this PostgreSQL server knows');
  });
});

describe('an existing database of this Database', () => {
  it('matches: nothing to do', () => {
    const p = plan({
      spec: spec({ owner: 'orders_owner', encoding: 'UTF8', locale: 'C' }),
      facts: facts(existing(), { requestedEncoding: 'UTF8' }),
    });
    expect(p).toEqual({ statements: [], changes: [], drift: [] });
  });

  it('gets a new owner and connection limit with ALTER DATABASE', () => {
    const p = plan({
      spec: spec({ owner: 'new"owner', connectionLimit: 5 }),
      facts: facts(existing({ connectionLimit: 50 })),
    });
    expect(p.problem).toBeUndefined();
    expect(p.statements.map((s) => s.sql)).toEqual([
      'ALTER DATABASE "orders" OWNER TO "new""owner"',
      'ALTER DATABASE "orders" CONNECTION LIMIT 5',
    ]);
    expect(p.drift).toEqual([
      'owner is "orders_owner", spec says "new"owner"',
      'connection limit is 50, spec says 5',
    ]);
  });

  it('without spec.owner, leaves the owner of an existing database as it is', () => {
    const p = plan({ spec: spec(), facts: facts(existing({ owner: 'someone' })) });
    expect(p.statements).toEqual([]);
    expect(p.drift).toEqual([]);
  });

  it('treats a codeset spelled another way as the same locale, as the C library does', () => {
    expect(sameLocale('en_US.UTF-8', 'en_US.utf8')).toBe(true);
    expect(sameLocale('C', 'POSIX')).toBe(true);
    expect(sameLocale('de_DE.UTF-8@euro', 'de_DE.utf8@euro')).toBe(true);
    expect(sameLocale('en_US.UTF-8', 'en_GB.UTF-8')).toBe(false);
    expect(sameLocale('C', 'C.UTF-8')).toBe(false);
  });
});

describe('what CREATE DATABASE fixes', () => {
  it('refuses another encoding, naming the server’s and the spec’s, and applies nothing else either', () => {
    const p = plan({
      spec: spec({ owner: 'other', encoding: 'LATIN1', connectionLimit: 3 }),
      facts: facts(existing(), { requestedEncoding: 'LATIN1' }),
    });
    expect(p.statements).toEqual([]);
    expect(p.problem).toBe(
      'encoding is fixed when a database is created: database "orders" has encoding UTF8, spec.forProvider.encoding says LATIN1; nothing was changed. For a database with encoding LATIN1, create a new Database (with another name) and move the data into it; or set encoding back to UTF8',
    );
    expect(p.drift).toContain('encoding is UTF8, spec says LATIN1');
  });

  it('compares the encoding as the server spells it', () => {
    const p = plan({
      spec: spec({ encoding: 'utf-8' }),
      facts: facts(existing(), { requestedEncoding: 'UTF8' }),
    });
    expect(p.problem).toBeUndefined();
  });

  it('refuses another locale under the field the spec used', () => {
    const p = plan({
      spec: spec({ owner: 'orders_owner', locale: 'en_US.UTF-8' }),
      facts: facts(existing()),
    });
    expect(p.problem).toContain(
      'locale is fixed when a database is created: database "orders" has locale C, spec.forProvider.locale says en_US.UTF-8; nothing was changed. For a database with locale en_US.UTF-8, create a new Database',
    );
    expect(p.drift).toEqual(['lcCollate is C, spec says en_US.UTF-8', 'lcCtype is C, spec says en_US.UTF-8']);
  });

  it.each([
    ['lcCollate', { lcCollate: 'C' }, { lcCollate: 'en_US.UTF-8' }],
    ['lcCtype', { lcCtype: 'C' }, { lcCtype: 'en_US.UTF-8' }],
  ])('refuses another %s', (field, wanted, server) => {
    const p = plan({ spec: spec(wanted), facts: facts(existing(server)) });
    expect(p.statements).toEqual([]);
    expect(p.problem).toContain(
      `${field} is fixed when a database is created: database "orders" has ${field} en_US.UTF-8, spec.forProvider.${field} says C`,
    );
  });

  it('refuses libc locales for a database ICU collates, saying which provider and locale it has', () => {
    const p = plan({
      spec: spec({ locale: 'C' }),
      facts: facts(existing({ localeProvider: 'icu', providerLocale: 'und' })),
    });
    expect(p.problem).toContain('database "orders" uses the icu locale provider (locale und)');
    expect(p.problem).toContain('remove locale from the spec');
    // Without locale fields, an ICU database is managed as it is.
    expect(plan({ spec: spec(), facts: facts(existing({ localeProvider: 'icu' })) }).problem).toBeUndefined();
  });

  it('refuses another template only when this provider recorded the one it created from', () => {
    const changed = plan({
      spec: spec({ template: 'template1' }),
      facts: facts(existing()),
      recordedTemplate: 'template0',
    });
    expect(changed.problem).toContain(
      'template is used only when a database is created: database "orders" was created from template0, spec.forProvider.template says template1',
    );
    const unset = plan({ spec: spec(), facts: facts(existing()), recordedTemplate: 'template0' });
    expect(unset.problem).toContain('spec.forProvider.template says template1');
    expect(
      plan({ spec: spec({ template: 'template0' }), facts: facts(existing()), recordedTemplate: 'template0' })
        .problem,
    ).toBeUndefined();
    expect(plan({ spec: spec({ template: 'template1' }), facts: facts(existing()) }).problem).toBeUndefined();
  });
});

describe('ownership', () => {
  it('refuses an existing database no Database marked, saying how to adopt it', () => {
    const p = plan({ spec: spec({ connectionLimit: 5 }), facts: facts(existing({ comment: null })) });
    expect(p.statements).toEqual([]);
    expect(p.problem).toContain('database "orders" already exists and no Database manages it');
    expect(p.problem).toContain('grants.pgplane.io/adopt: "true"');
  });

  it('adopts it on request: the mark first, then the changes', () => {
    const p = plan({
      spec: spec({ owner: 'orders_owner', connectionLimit: 5 }),
      facts: facts(existing({ comment: 'made by hand' })),
      adopt: true,
    });
    expect(p.problem).toBeUndefined();
    expect(p.statements.map((s) => s.sql)).toEqual([
      `COMMENT ON DATABASE "orders" IS '${MARK}'`,
      'ALTER DATABASE "orders" CONNECTION LIMIT 5',
    ]);
  });

  it('refuses a database another Database manages, naming it, even with adopt', () => {
    const other = ownershipComment({
      ...OWNER,
      name: 'billing',
      uid: '99999999-0000-4000-8000-000000000009',
    });
    const p = plan({ spec: spec(), facts: facts(existing({ comment: other })), adopt: true });
    expect(p.statements).toEqual([]);
    expect(p.problem).toContain('database "orders" is managed by Database team/billing');
  });

  it('re-marks its predecessor’s database (same namespace and name, new uid)', () => {
    const before = ownershipComment({ ...OWNER, uid: '11111111-0000-4000-8000-000000000001' });
    const p = plan({ spec: spec({ owner: 'orders_owner' }), facts: facts(existing({ comment: before })) });
    expect(p.problem).toBeUndefined();
    expect(p.statements.map((s) => s.sql)).toEqual([`COMMENT ON DATABASE "orders" IS '${MARK}'`]);
    expect(p.drift).toEqual([]);
  });

  it('needs no claim to observe: Observe-only reports drift on a database nobody marked', () => {
    const p = plan({
      spec: spec({ owner: 'orders_owner', connectionLimit: 5 }),
      facts: facts(existing({ comment: null })),
      observeOnly: true,
    });
    expect(p.problem).toBeUndefined();
    expect(p.drift).toEqual(['connection limit is -1 (no limit), spec says 5']);
  });

  it('refuses an invalid database (an interrupted DROP DATABASE) and says to drop it', () => {
    const p = plan({
      spec: spec(),
      facts: facts(existing({ invalid: true, connectionLimit: -2, ownedBySessionUser: true })),
    });
    expect(p.statements).toEqual([]);
    expect(p.problem).toContain('database "orders" is invalid: a DROP DATABASE of it was interrupted');
  });
});

describe('DatabaseClient.parse', () => {
  const client = new DatabaseClient({
    configs: {
      source: () => Promise.reject(new Error('not used')),
      markInUse: () => Promise.reject(new Error('not used')),
      readSecret: () => Promise.reject(new Error('not used')),
    },
    databases: { withClient: () => Promise.reject(new Error('not used')) },
    now: () => new Date(),
  });
  const object = (spec: Record<string, unknown>) => ({
    apiVersion: 'grants.pgplane.io/v1alpha1',
    kind: 'Database',
    metadata: { name: 'orders', namespace: 'team', uid: OWNER.uid },
    spec,
  });

  it('keeps the database unless deletionPolicy says Delete, and passes the management policies on', () => {
    expect(client.parse(object({ forProvider: { name: 'orders' } }), 'team/orders')).toEqual({
      spec: { name: 'orders', connectionLimit: -1 },
      managementPolicies: undefined,
      deletionPolicy: 'Orphan',
    });
    expect(
      client.parse(
        object({
          forProvider: { name: 'orders' },
          managementPolicies: ['Observe'],
          deletionPolicy: 'Delete',
        }),
        'team/orders',
      ),
    ).toMatchObject({ managementPolicies: ['Observe'], deletionPolicy: 'Delete' });
  });

  it('refuses an invalid spec with the field and an example', () => {
    const parsed = client.parse(
      object({ forProvider: { name: 'template1', encoding: 'UTF 8' } }),
      'team/orders',
    );
    expect('invalid' in parsed && parsed.invalid).toContain(
      'spec.forProvider.name: is a database every PostgreSQL cluster already has',
    );
    expect('invalid' in parsed && parsed.invalid).toContain(
      'spec.forProvider.encoding: must be an encoding name',
    );
  });
});
