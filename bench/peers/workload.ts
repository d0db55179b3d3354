// The request stream every function under test is driven with: the agent-executor XR from
// examples/, in a few variants (names, namespaces, sizes, replicas, storage), each wrapped in the
// RunFunctionRequest Crossplane sends (src/render/render.ts buildRequest) with the function's
// own Input. Only the Input differs between the functions; the XRs are the same.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RunFunctionRequest } from '@crossplane-org/function-sdk-typescript';
import { parse } from 'yaml';
import { inputFrom } from '../../src/cli/render.js';
import { buildRequest } from '../../src/render/render.js';
import { readSingleObject } from '../../src/shared/yaml-files.js';
import type { JsonObject } from '../../src/shared/json.js';

export type TargetName = 'pgplane' | 'function-go-templating' | 'function-patch-and-transform';
export const PEER_NAMES = ['function-go-templating', 'function-patch-and-transform'] as const;
export type PeerName = (typeof PEER_NAMES)[number];

const root = fileURLToPath(new URL('../../', import.meta.url));
const here = fileURLToPath(new URL('./', import.meta.url));

/** The function Input each target is given; the same for every request, as in a Composition. */
function inputFor(target: TargetName): JsonObject {
  switch (target) {
    case 'pgplane':
      return inputFrom(readSingleObject(`${root}apis/namespaced/composition.yaml`));
    case 'function-go-templating':
      return parse(readFileSync(`${here}inputs/go-templating.yaml`, 'utf8')) as JsonObject;
    case 'function-patch-and-transform':
      return parse(readFileSync(`${here}inputs/patch-and-transform.yaml`, 'utf8')) as JsonObject;
  }
}

const SIZES = ['small', 'medium', 'large'] as const;
const VARIANTS = 12;

/**
 * The XRs of the stream: examples/agent-executor/xr.yaml first, then variants of it. Each asks for
 * the owner-only shape (`roles.leastPrivilege: false`): the Cluster, the credentials ExternalSecret
 * and the connection Secret, which is what the peers' inputs compose.
 */
export function workloadXrs(): JsonObject[] {
  const example = readSingleObject(`${root}examples/agent-executor/xr.yaml`);
  const base: JsonObject = {
    ...example,
    spec: { ...(example.spec as JsonObject), roles: { leastPrivilege: false } },
  };
  const baseSpec = base.spec as JsonObject;
  const baseMeta = base.metadata as JsonObject;
  const xrs: JsonObject[] = [base];
  for (let i = 1; i < VARIANTS; i++) {
    const name = `team-${i}-db`;
    xrs.push({
      ...base,
      metadata: { ...baseMeta, name, namespace: `team-${i % 4}` },
      spec: {
        ...baseSpec,
        size: SIZES[i % SIZES.length],
        storageGB: 10 * i,
        ...(i % 3 === 0 ? { instances: 3 } : {}),
        databaseName: `app_${i}`,
        databaseOwner: `owner_${i}`,
        connectionSecretName: `${name}-postgres`,
        credentialsSecretName: `${name}-credentials`,
      },
    });
  }
  return xrs;
}

export function workloadRequests(target: TargetName): RunFunctionRequest[] {
  const input = inputFor(target);
  return workloadXrs().map((xr) => buildRequest({ xr, input }));
}

/** The stream, protobuf-encoded once, so the load generator spends no time encoding. */
export function encodedRequests(target: TargetName): Buffer[] {
  return workloadRequests(target).map((r) => Buffer.from(RunFunctionRequest.encode(r).finish()));
}
