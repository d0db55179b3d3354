// Existing-Secret mode: the function reads the team's Secret, so it can hold the platform's
// password policy. A weak password is reported (or, where the platform says so, refused), naming
// the Secret and the rule, and never the password or anything computed from it.
import { Severity, Status, type RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { inputFrom } from '../../src/cli/render.js';
import { runFunction } from '../../src/function/handler.js';
import { buildRequest } from '../../src/render/render.js';
import type { JsonObject } from '../../src/shared/json.js';
import { readSingleObject } from '../../src/shared/yaml-files.js';

const platform = inputFrom(readSingleObject('apis/namespaced/composition.yaml'));

const xr: JsonObject = {
  apiVersion: 'database.pgplane.io/v1alpha1',
  kind: 'PostgresInstance',
  metadata: { name: 'inventory', namespace: 'warehouse' },
  spec: {
    version: '16',
    storageGB: 10,
    databaseName: 'inventory',
    databaseOwner: 'inventory_app',
    credentialsSecretName: 'inventory-owner',
    credentials: { source: 'Secret' },
    roles: { leastPrivilege: false },
  },
};

function secret(password: string): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'inventory-owner', namespace: 'warehouse' },
    type: 'kubernetes.io/basic-auth',
    data: {
      username: Buffer.from('inventory_app').toString('base64'),
      password: Buffer.from(password).toString('base64'),
    },
  };
}

function run(password: string, input: JsonObject = platform): { response: RunFunctionResponse; log: string } {
  const lines: string[] = [];
  const logger = pino(
    { level: 'trace' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  const response = runFunction(
    buildRequest({ xr, input }, { 'credentials-secret': [secret(password)] }),
    logger,
  );
  return { response, log: lines.join('') };
}

/** What a person or a log collector reads: results, conditions, the XR's status, the log. */
function visibleText(response: RunFunctionResponse, log: string): string {
  return JSON.stringify([response.results, response.conditions, response.desired?.composite?.resource, log]);
}

function expectNothingDerived(text: string, password: string): void {
  expect(text).not.toContain(password);
  expect(text).not.toContain(Buffer.from(password).toString('base64'));
  // Not even the length: "7 characters" would halve a guesser's work.
  expect(text).not.toMatch(new RegExp(`\\b${[...password].length}\\b(?! characters)`));
}

const condition = (response: RunFunctionResponse) =>
  response.conditions.find((c) => c.type === 'PasswordPolicy');

describe('the password policy on existing Secrets', () => {
  it.each([
    ['tuxpass', 'it is shorter than 16 characters'],
    ['inventory_app', "it is the role's own name"],
    ['Password1234', 'it is shorter than 16 characters'],
    ['changemechangeme', 'it is a well-known default password'],
  ])('reports %j: %s, naming the Secret, and still composes (Warn)', (password, rule) => {
    const { response, log } = run(password);
    const warning = response.results.find((r) => r.severity === Severity.SEVERITY_WARNING);
    expect(warning?.message).toContain(
      "the password in Secret warehouse/inventory-owner (role inventory_app) breaks this platform's password policy",
    );
    expect(warning?.message).toContain(rule);
    expect(condition(response)).toMatchObject({
      status: Status.STATUS_CONDITION_FALSE,
      reason: 'Unavailable',
    });
    expect(Object.keys(response.desired?.resources ?? {})).toContain('cluster');
    // A password equal to the role's name is the one case where the rule itself says what it is;
    // the role's name is public anyway.
    if (password !== 'inventory_app') expectNothingDerived(visibleText(response, log), password);
  });

  it('passes a random password with PasswordPolicy=True and no warning', () => {
    const { response } = run('q8Vn3kR7xP2mW9sT4yL6');
    expect(response.results.filter((r) => r.severity === Severity.SEVERITY_WARNING)).toEqual([]);
    expect(condition(response)).toMatchObject({ status: Status.STATUS_CONDITION_TRUE });
  });

  it("takes the platform's minimum length", () => {
    const input = { ...platform, credentials: { passwordPolicy: { minLength: 24 } } };
    const { response } = run('q8Vn3kR7xP2mW9sT4yL6', input);
    expect(condition(response)?.message).toContain('it is shorter than 24 characters');
  });

  it('composes nothing, with one FATAL result, when the platform refuses weak passwords', () => {
    const input = { ...platform, credentials: { passwordPolicy: { onViolation: 'Refuse' } } };
    const { response, log } = run('tuxpass', input);
    const fatal = response.results.filter((r) => r.severity === Severity.SEVERITY_FATAL);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({ reason: 'WeakPassword' });
    expect(fatal[0]!.message).toContain(
      'PostgresInstance warehouse/inventory is refused: the password in Secret warehouse/inventory-owner',
    );
    expect(condition(response)).toMatchObject({
      status: Status.STATUS_CONDITION_FALSE,
      reason: 'WeakPassword',
    });
    expect(response.desired?.resources).toEqual({});
    // Nothing composed, so the password appears nowhere in the response at all.
    expectNothingDerived(JSON.stringify(response) + log, 'tuxpass');
  });
});
