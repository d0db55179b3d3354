// The semantics half of bench/provider-peers: what each provider does, not how fast. One role in
// one database; each scenario edits a Grant (or the catalog behind its back) and waits, with a
// deadline, for the catalog to say what the Grant says and for the Grant to be Ready.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import pg from 'pg';

export type ProviderName = 'pgplane' | 'provider-sql';

export interface SemanticsEnv {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly database: string;
  readonly role: string;
  readonly local: pg.ClientConfig;
  /** Seconds to wait for each scenario (the REVOKE one waits two poll windows more). */
  readonly deadlineSeconds: number;
  readonly pollSeconds: number;
}

export interface Outcome {
  readonly scenario: string;
  /** Seconds until the catalog and Ready agreed with the Grant; undefined when they never did. */
  readonly seconds: number | undefined;
}

/** Tables of every relation kind a Grant may name. */
export const SEMANTICS_SETUP = `DROP TABLE IF EXISTS public.orders, public.parted CASCADE;
CREATE TABLE public.orders (id int, note text);
CREATE VIEW public.v_orders AS SELECT id FROM public.orders;
CREATE MATERIALIZED VIEW public.m_orders AS SELECT id FROM public.orders;
CREATE TABLE public.parted (id int) PARTITION BY RANGE (id);`;

const GROUPS = {
  pgplane: { group: 'grants.pgplane.io', version: 'v1alpha1' },
  'provider-sql': { group: 'postgresql.sql.m.crossplane.io', version: 'v1alpha1' },
} as const;

function forProvider(provider: ProviderName, env: SemanticsEnv, table: string, privileges: string[]): object {
  return provider === 'pgplane'
    ? {
        database: env.database,
        grantee: env.role,
        tables: [{ schema: 'public', objects: [table], privileges }],
      }
    : { privileges, role: env.role, database: env.database, schema: 'public', tables: [table] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function privilegesOn(env: SemanticsEnv, table: string): Promise<string[]> {
  const c = new pg.Client({ ...env.local, database: env.database });
  await c.connect();
  try {
    const { rows } = await c.query<{ p: string }>(
      `SELECT p FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE']) p WHERE has_table_privilege($1, $2, p)`,
      [env.role, `public.${table}`],
    );
    return rows.map((r) => r.p).sort();
  } finally {
    await c.end();
  }
}

async function isReady(env: SemanticsEnv, provider: ProviderName, name: string): Promise<boolean> {
  const object = (await env.kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
    ...GROUPS[provider],
    namespace: env.namespace,
    plural: 'grants',
    name,
  })) as { status?: { conditions?: { type: string; status: string }[] } };
  return ['Ready', 'Synced'].every((t) =>
    object.status?.conditions?.some((c) => c.type === t && c.status === 'True'),
  );
}

/** Seconds until the table's privileges are exactly `want` and the Grant is Ready, or undefined at the deadline. */
async function until(
  env: SemanticsEnv,
  provider: ProviderName,
  name: string,
  table: string,
  want: string[],
  deadlineSeconds: number,
): Promise<number | undefined> {
  const started = Date.now();
  const wanted = [...want].sort().join(',');
  while (Date.now() - started < deadlineSeconds * 1000) {
    if ((await privilegesOn(env, table)).join(',') === wanted && (await isReady(env, provider, name)))
      return (Date.now() - started) / 1000;
    await sleep(500);
  }
  return undefined;
}

/** Runs every scenario against the provider already running for env.namespace. */
export async function runSemantics(env: SemanticsEnv, provider: ProviderName): Promise<Outcome[]> {
  const objects = env.kc.makeApiClient(CustomObjectsApi);
  const g = GROUPS[provider];
  const body = (name: string, table: string, privileges: string[]) => ({
    apiVersion: `${g.group}/${g.version}`,
    kind: 'Grant',
    metadata: { name, namespace: env.namespace },
    spec: {
      providerConfigRef: { kind: 'ProviderConfig', name: 'pg' },
      forProvider: forProvider(provider, env, table, privileges),
    },
  });
  const create = (name: string, table: string, privileges: string[]) =>
    objects.createNamespacedCustomObject({
      ...g,
      namespace: env.namespace,
      plural: 'grants',
      body: body(name, table, privileges),
    });
  const setPrivileges = (name: string, table: string, privileges: string[]) =>
    objects.patchNamespacedCustomObject(
      {
        ...g,
        namespace: env.namespace,
        plural: 'grants',
        name,
        body: { spec: { forProvider: forProvider(provider, env, table, privileges) } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  const d = env.deadlineSeconds;
  const out: Outcome[] = [];

  await create('orders', 'orders', ['SELECT']);
  out.push({
    scenario: 'create [SELECT]',
    seconds: await until(env, provider, 'orders', 'orders', ['SELECT'], d),
  });
  await setPrivileges('orders', 'orders', ['SELECT', 'INSERT']);
  out.push({
    scenario: 'widen to [SELECT, INSERT]',
    seconds: await until(env, provider, 'orders', 'orders', ['SELECT', 'INSERT'], d),
  });
  await setPrivileges('orders', 'orders', ['SELECT']);
  out.push({
    scenario: 'narrow to [SELECT]',
    seconds: await until(env, provider, 'orders', 'orders', ['SELECT'], d),
  });

  for (const [name, table] of [
    ['view', 'v_orders'],
    ['matview', 'm_orders'],
    ['parted', 'parted'],
  ] as const) {
    await create(name, table, ['SELECT']);
    out.push({
      scenario: `${name} [SELECT]`,
      seconds: await until(env, provider, name, table, ['SELECT'], d),
    });
  }

  // Out of band: someone revokes by hand; restored at the next poll (or sooner).
  const c = new pg.Client({ ...env.local, database: env.database });
  await c.connect();
  await c.query(`REVOKE SELECT ON public.orders FROM "${env.role.replaceAll('"', '""')}"`);
  await c.end();
  await sleep(1000);
  out.push({
    scenario: 'out-of-band REVOKE restored',
    seconds: await until(env, provider, 'orders', 'orders', ['SELECT'], d + 2 * env.pollSeconds),
  });
  return out;
}
