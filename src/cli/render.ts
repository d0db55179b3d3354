// `pgplane render`: render a PostgresInstance locally, no cluster, no Docker.
import { parseArgs } from 'node:util';
import { Severity, Status, type RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { stringify } from 'yaml';
import { getPath, isObject, type JsonObject } from '../shared/json.js';
import { readObjects, readSingleObject } from '../shared/yaml-files.js';
import { render } from '../render/render.js';
import type { CliIo } from '../shared/io.js';

export const RENDER_USAGE = `Usage: pgplane render <xr.yaml> [--input input.yaml|composition.yaml] [--observed dir|file] [--required dir|file] [--include-results=false]

Runs the pgplane composition function in-process and prints the desired XR status and composed
resources as YAML, like 'crossplane render' (results are printed as render.crossplane.io Result objects).

  --input      The function Input, or a Composition whose pgplane step carries it.
  --observed   Observed composed resources (annotated crossplane.io/composition-resource-name).
  --required   Objects the function may ask for, e.g. an existing credentials Secret.`;

export function renderCommand(argv: string[], io: CliIo): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      input: { type: 'string' },
      observed: { type: 'string', multiple: true },
      required: { type: 'string', multiple: true },
      'include-results': { type: 'boolean', default: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(`${RENDER_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    io.stderr(`pgplane render: expected one XR file, got ${positionals.length}\n\n${RENDER_USAGE}\n`);
    return 2;
  }

  const xr = readSingleObject(positionals[0]!);
  const input = values.input ? inputFrom(readSingleObject(values.input)) : undefined;
  const observed = (values.observed ?? []).flatMap(readObjects);
  const required = (values.required ?? []).flatMap(readObjects);
  const result = render({ xr, ...(input ? { input } : {}), observed, required });

  if (result.fatal) {
    io.stderr(`pgplane render: ${result.fatal}\n`);
    return 1;
  }
  const [composite, ...composed] = result.objects;
  const documents = [withConditions(composite!, result.response), ...composed];
  if (values['include-results']) documents.push(...results(result.response));
  io.stdout(documents.map((doc) => `---\n${stringify(doc, { lineWidth: 0 })}`).join(''));
  return 0;
}

/** Accepts an Input document, or a Composition and takes the input of the step that runs pgplane. */
export function inputFrom(document: JsonObject): JsonObject {
  if (document.kind !== 'Composition') return document;
  const pipeline = getPath(document, 'spec', 'pipeline');
  if (Array.isArray(pipeline)) {
    for (const step of pipeline) {
      const input = getPath(step, 'input');
      if (
        isObject(input) &&
        typeof input.apiVersion === 'string' &&
        input.apiVersion.startsWith('pgplane.fn.crossplane.io/')
      ) {
        return input;
      }
    }
  }
  throw new Error('the Composition has no pipeline step with a pgplane.fn.crossplane.io Input');
}

/** How `crossplane render` spells condition statuses and result severities. */
const CONDITION_STATUS: Readonly<Record<Status, string>> = {
  [Status.STATUS_CONDITION_UNSPECIFIED]: 'Unknown',
  [Status.STATUS_CONDITION_UNKNOWN]: 'Unknown',
  [Status.STATUS_CONDITION_TRUE]: 'True',
  [Status.STATUS_CONDITION_FALSE]: 'False',
  [Status.UNRECOGNIZED]: 'Unknown',
};
const SEVERITY: Readonly<Record<Severity, string>> = {
  [Severity.SEVERITY_UNSPECIFIED]: 'SEVERITY_NORMAL',
  [Severity.SEVERITY_FATAL]: 'SEVERITY_FATAL',
  [Severity.SEVERITY_WARNING]: 'SEVERITY_WARNING',
  [Severity.SEVERITY_NORMAL]: 'SEVERITY_NORMAL',
  [Severity.UNRECOGNIZED]: 'SEVERITY_NORMAL',
};

function withConditions(composite: JsonObject, response: RunFunctionResponse): JsonObject {
  const status = isObject(composite.status) ? composite.status : {};
  const conditions = response.conditions.map((c) => ({
    type: c.type,
    status: CONDITION_STATUS[c.status],
    reason: c.reason,
    ...(c.message ? { message: c.message } : {}),
  }));
  return { ...composite, status: { ...status, conditions } };
}

function results(response: RunFunctionResponse): JsonObject[] {
  return response.results.map((r) => ({
    apiVersion: 'render.crossplane.io/v1beta1',
    kind: 'Result',
    step: 'pgplane',
    severity: SEVERITY[r.severity],
    message: r.message,
  }));
}
