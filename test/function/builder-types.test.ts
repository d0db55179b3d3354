// The builders return the upstream kinds' types (generated from the CRDs, kubernetes-models for core
// kinds, z.input for pgplane's own), and those types are strict: a field the CRD does not have, or a
// value of the wrong type, does not compile. tsc checks this file (`npm run typecheck`, the first step
// of `npm test`): an expectTypeOf that no longer holds, or an @ts-expect-error whose error went away,
// fails it.
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  buildObjectStore,
  buildScheduledBackup,
  walArchiverPlugins,
} from '../../src/function/compose/backup.js';
import { buildCluster } from '../../src/function/compose/cluster.js';
import {
  buildConnectionExternalSecret,
  buildConnectionSecret,
} from '../../src/function/compose/connection.js';
import { buildCredentialsExternalSecret } from '../../src/function/compose/credentials.js';
import { buildDatabase } from '../../src/function/compose/database.js';
import {
  buildGeneratedCredentialsExternalSecret,
  buildPasswordGenerator,
  buildPushSecret,
  buildReaderRole,
  buildReaderRoleBinding,
  buildReaderServiceAccount,
  buildReaderStore,
} from '../../src/function/compose/generated-credentials.js';
import { toJsonObject } from '../../src/function/compose/kubernetes-object.js';
import { buildPodMonitor, buildPrometheusRule } from '../../src/function/compose/monitoring.js';
import { buildNetworkPolicy } from '../../src/function/compose/network-policy.js';
import { buildPooler } from '../../src/function/compose/pooler.js';
import { buildDatabaseRole, managedRoles } from '../../src/function/compose/roles.js';
import type { ObjectStore } from '../../src/function/compose/upstream/barman-cloud-object-store.js';
import type {
  Cluster,
  ClusterSpec,
  PluginConfiguration,
  RoleConfiguration,
} from '../../src/function/compose/upstream/cnpg-cluster.js';
import type { Database } from '../../src/function/compose/upstream/cnpg-database.js';
import type { DatabaseRole } from '../../src/function/compose/upstream/cnpg-database-role.js';
import type { Pooler, PoolerSpec } from '../../src/function/compose/upstream/cnpg-pooler.js';
import type { ScheduledBackup } from '../../src/function/compose/upstream/cnpg-scheduled-backup.js';
import type { ExternalSecret } from '../../src/function/compose/upstream/eso-external-secret.js';
import type { Password } from '../../src/function/compose/upstream/eso-password.js';
import type { PushSecret } from '../../src/function/compose/upstream/eso-push-secret.js';
import type { SecretStore } from '../../src/function/compose/upstream/eso-secret-store.js';
import type { PodMonitor } from '../../src/function/compose/upstream/prometheus-pod-monitor.js';
import type { PrometheusRule } from '../../src/function/compose/upstream/prometheus-rule.js';

describe('typed builders', () => {
  it('each builder returns its kind', () => {
    expectTypeOf(buildCluster).returns.toEqualTypeOf<Cluster>();
    expectTypeOf(managedRoles).returns.toEqualTypeOf<RoleConfiguration[]>();
    expectTypeOf(walArchiverPlugins).returns.toEqualTypeOf<PluginConfiguration[]>();
    expectTypeOf(buildPooler).returns.toEqualTypeOf<Pooler | undefined>();
    expectTypeOf(buildObjectStore).returns.toEqualTypeOf<ObjectStore | undefined>();
    expectTypeOf(buildScheduledBackup).returns.toEqualTypeOf<ScheduledBackup | undefined>();
    expectTypeOf(buildDatabase).returns.toEqualTypeOf<Database | undefined>();
    expectTypeOf(buildDatabaseRole).returns.toEqualTypeOf<DatabaseRole>();
    expectTypeOf(buildCredentialsExternalSecret).returns.toEqualTypeOf<ExternalSecret>();
    expectTypeOf(buildConnectionExternalSecret).returns.toEqualTypeOf<ExternalSecret>();
    expectTypeOf(buildConnectionSecret).returns.toEqualTypeOf<ISecret>();
    expectTypeOf(buildPodMonitor).returns.toEqualTypeOf<PodMonitor | undefined>();
    expectTypeOf(buildPrometheusRule).returns.toEqualTypeOf<PrometheusRule | undefined>();
    expectTypeOf(buildNetworkPolicy).returns.toEqualTypeOf<INetworkPolicy | undefined>();
    expectTypeOf(buildPasswordGenerator).returns.toEqualTypeOf<Password>();
    expectTypeOf(buildGeneratedCredentialsExternalSecret).returns.toEqualTypeOf<ExternalSecret>();
    expectTypeOf(buildReaderServiceAccount).returns.toEqualTypeOf<IServiceAccount>();
    expectTypeOf(buildReaderRole).returns.toEqualTypeOf<IRole>();
    expectTypeOf(buildReaderRoleBinding).returns.toEqualTypeOf<IRoleBinding>();
    expectTypeOf(buildReaderStore).returns.toEqualTypeOf<SecretStore>();
    expectTypeOf(buildPushSecret).returns.toEqualTypeOf<PushSecret | undefined>();
  });

  it('the generated types refuse what the API server would prune or reject', () => {
    const specs: ClusterSpec[] = [
      { instances: 3, resources: { requests: { cpu: '500m', memory: 1024 } } },
      // @ts-expect-error a field the CRD does not have: the API server would prune it silently
      { instances: 3, instanceCount: 3 },
      // @ts-expect-error instances is an integer
      { instances: '3' },
      // @ts-expect-error primaryUpdateStrategy is an enum
      { instances: 1, primaryUpdateStrategy: 'automatic' },
      // @ts-expect-error a Cluster must say how many instances it has
      { imageName: 'ghcr.io/cloudnative-pg/postgresql:17' },
    ];
    const poolers: PoolerSpec[] = [
      // @ts-expect-error PgBouncer parameters are strings
      { cluster: { name: 'app' }, pgbouncer: { parameters: { max_client_conn: 100 } } },
    ];
    expect(specs).toHaveLength(5);
    expect(poolers).toHaveLength(1);
  });

  it('a typed object enters the composition layer as itself, not a copy', () => {
    const secret: ISecret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app' } };
    expect(toJsonObject(secret)).toBe(secret);
  });
});
