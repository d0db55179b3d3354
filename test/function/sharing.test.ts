// A shared PostgresInstance (spec.sharing.enabled): its status lists the PostgresDatabases it serves,
// and its own database is closed to PUBLIC, as each tenant database is, since tenants' roles live
// on its server. An instance that is not shared asks for no list and keeps PUBLIC's default CONNECT.
import { describe, expect, it } from 'vitest';
import { render, type RenderRequest } from '../../src/render/render.js';
import { getPath, type JsonObject } from '../../src/shared/json.js';
import { exampleCases } from '../support/examples.js';

const shared = exampleCases().find((c) => c.id === 'shared-instance/xr')!.request;
const minimal = exampleCases().find((c) => c.id === 'minimal/xr')!.request;

const statusOf = (request: RenderRequest) =>
  getPath(render(request).objects[0], 'status') as JsonObject | undefined;
const publicGrant = (request: RenderRequest) =>
  render(request).objects.find((o) => getPath(o, 'spec', 'forProvider', 'grantee') === 'PUBLIC');

describe('a shared instance', () => {
  it('lists the PostgresDatabases on it, by name, with their database, owner and readiness', () => {
    expect(statusOf(shared)?.['databases']).toEqual([
      { name: 'billing', database: 'billing', owner: 'billing_owner', ready: true },
      { name: 'orders', database: 'orders', owner: 'orders_owner', ready: false },
    ]);
  });

  it('lists none while no PostgresDatabase names it', () => {
    expect(statusOf({ ...shared, required: [] })?.['databases']).toEqual([]);
  });

  it('asks Crossplane for the PostgresDatabases of its namespace, through the Input the platform may change', () => {
    const asked = render({
      ...shared,
      input: { ...shared.input, databaseKind: { apiVersion: 'db.example.org/v1', kind: 'AppDatabase' } },
    }).response.requirements?.resources['shared-databases'];
    expect(asked).toEqual({
      apiVersion: 'db.example.org/v1',
      kind: 'AppDatabase',
      matchLabels: { labels: {} },
      namespace: 'databases',
    });
  });

  it('takes CONNECT and TEMPORARY from PUBLIC on its own database too', () => {
    expect(getPath(publicGrant(shared), 'spec', 'forProvider')).toEqual({
      database: 'platform',
      grantee: 'PUBLIC',
      mode: 'authoritative',
      databasePrivileges: [],
      schemas: [{ name: 'public', privileges: ['USAGE'] }],
    });
  });
});

describe('an instance that is not shared', () => {
  it('asks for no list, reports no databases and leaves PUBLIC its CONNECT', () => {
    const { response, objects } = render(minimal);
    expect(response.requirements?.resources['shared-databases']).toBeUndefined();
    expect(getPath(objects[0], 'status', 'databases')).toBeUndefined();
    expect(getPath(publicGrant(minimal), 'spec', 'forProvider', 'databasePrivileges')).toBeUndefined();
  });
});
