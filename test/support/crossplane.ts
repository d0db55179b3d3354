// The real Crossplane CLI against the real function server: installs `crossplane` with
// test/tools/crossplane/install.sh, starts `pgplane serve function --insecure`, runs
// `crossplane render` and `crossplane beta validate` offline. No Docker, no cluster.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { freePort } from './ports.js';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { getString, isObject, type JsonObject } from '../../src/shared/json.js';
import { readSingleObject } from '../../src/shared/yaml-files.js';
import { validateCoreKind, isCoreKind } from './core-kinds.js';
import { compositionFor, EXAMPLES_NOW } from './examples.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INSTALL_SCRIPT = join(REPO_ROOT, 'test/tools/crossplane/install.sh');
export const FUNCTIONS_FILE = join(REPO_ROOT, 'examples/functions.yaml');
const DEVELOPMENT_TARGET_ANNOTATION = 'render.crossplane.io/runtime-development-target';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; never throws on a non-zero exit (the caller decides). */
export function run(file: string, args: readonly string[], cwd = REPO_ROOT): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(error);
        return;
      }
      resolvePromise({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}

/**
 * Runs install.sh (a no-op when a binary is cached; a cold build takes minutes) and returns the
 * path of the `crossplane` binary. The script's log goes to this process's stderr.
 * PGPLANE_CROSSPLANE_BIN points at a binary installed some other way.
 */
export async function installCrossplane(): Promise<string> {
  const override = process.env['PGPLANE_CROSSPLANE_BIN'];
  if (override) return override;
  const child = spawn(INSTALL_SCRIPT, [], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', resolvePromise);
  });
  if (code !== 0) throw new Error(`${INSTALL_SCRIPT} failed with exit code ${String(code)}`);
  const binary = out.trim().split('\n').at(-1) ?? '';
  if (!existsSync(binary)) throw new Error(`${INSTALL_SCRIPT} printed "${binary}", which does not exist`);
  return binary;
}

/** The Crossplane CLI's own version line (`crossplane version --client`). */
export async function crossplaneVersion(binary: string): Promise<string> {
  const result = await run(binary, ['version', '--client']);
  return result.stdout.trim();
}

function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen(port, host, () => server.close(() => resolvePromise(true)));
  });
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once('error', () => resolvePromise(false));
  });
}

export interface FunctionServer {
  /** host:port, for the Development runtime's target annotation. */
  target: string;
  /** Everything the server wrote, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `node dist/cli/main.js serve function --insecure` on 127.0.0.1: port 9443 (what
 * examples/functions.yaml targets) when it is free, otherwise any free port. Resolves once the
 * port accepts connections; rejects if the server exits first.
 */
export async function startFunctionServer(
  command: readonly string[] = defaultServeCommand(),
): Promise<FunctionServer> {
  const host = '127.0.0.1';
  const port = (await portIsFree(host, 9443)) ? 9443 : await freePort(host);
  const target = `${host}:${port}`;
  const [file, ...args] = [...command, '--address', target];
  // The examples' clock (examples.ts), so renders of scheduled verifications match in-process ones.
  const env = { ...process.env, PGPLANE_FUNCTION_NOW: EXAMPLES_NOW.toISOString() };
  const child: ChildProcess = spawn(file!, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolvePromise) =>
    child.on('exit', (code) => resolvePromise(code)),
  );
  let gone = false;
  void exited.then(() => (gone = true));

  // Poll until the port accepts connections; the server's exit ends the wait with its output.
  for (;;) {
    if (gone) {
      throw new Error(`${[file, ...args].join(' ')} exited before listening:\n${output}`);
    }
    if (await canConnect(host, port)) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    target,
    output: () => output,
    async stop() {
      if (gone) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function defaultServeCommand(): string[] {
  return [process.execPath, join(REPO_ROOT, 'dist/cli/main.js'), 'serve', 'function', '--insecure'];
}

export interface RenderCase {
  /** e.g. "agent-executor", "agent-executor-legacy-ready": also the expectation's file name. */
  name: string;
  scenario: string;
  xrFile: string;
  compositionFile: string;
  /** The XRD of the XR's API (namespaced or legacy). */
  xrdFile: string;
  observedDir?: string;
  requiredDir?: string;
}

const XR_FILES: readonly { file: string; suffix: string; apis: string }[] = [
  { file: 'xr.yaml', suffix: '', apis: 'apis/namespaced' },
  { file: 'xr-legacy.yaml', suffix: '-legacy', apis: 'apis/legacy' },
];

/** Every Composition in apis/ (each API folder may hold several, e.g. a production one). */
export function compositionFiles(): string[] {
  return XR_FILES.flatMap((xr) => {
    const dir = join(REPO_ROOT, xr.apis);
    return readdirSync(dir)
      .filter((f) => f.startsWith('composition') && f.endsWith('.yaml'))
      .sort()
      .map((f) => join(dir, f));
  });
}

/** The XRD in apisDir that defines the XR's kind (as its XR or its claim), else definition.yaml. */
function definitionFor(xr: JsonObject, apisDir: string): string {
  const kind = getString(xr, 'kind');
  const found = readdirSync(apisDir)
    .filter((f) => f.endsWith('definition.yaml'))
    .map((f) => join(apisDir, f))
    .find((file) => {
      const xrd = readSingleObject(file);
      return (
        getString(xrd, 'spec', 'names', 'kind') === kind ||
        getString(xrd, 'spec', 'claimNames', 'kind') === kind
      );
    });
  return found ?? join(apisDir, 'definition.yaml');
}

/** Every example XR (namespaced and legacy) with no observed state and with each observed/<state>/. */
export function renderCases(examplesDir = join(REPO_ROOT, 'examples')): RenderCase[] {
  const cases: RenderCase[] = [];
  for (const scenario of readdirSync(examplesDir).sort()) {
    const dir = join(examplesDir, scenario);
    const observedRoot = join(dir, 'observed');
    const states = existsSync(observedRoot) ? readdirSync(observedRoot).sort() : [];
    const requiredDir = join(dir, 'required');
    for (const xr of XR_FILES) {
      const xrFile = join(dir, xr.file);
      if (!existsSync(xrFile)) continue;
      const apisDir = join(REPO_ROOT, xr.apis);
      const xrdFile = definitionFor(readSingleObject(xrFile), apisDir);
      // The Composition the XR selects (spec.crossplane.compositionRef), else the default one.
      const compositionFile = compositionFor(readSingleObject(xrFile), apisDir);
      for (const state of [undefined, ...states]) {
        cases.push({
          name: `${scenario}${xr.suffix}${state ? `-${state}` : ''}`,
          scenario,
          xrFile,
          compositionFile,
          xrdFile,
          ...(state ? { observedDir: join(observedRoot, state) } : {}),
          ...(existsSync(requiredDir) ? { requiredDir } : {}),
        });
      }
    }
  }
  return cases;
}

/**
 * `crossplane render` for one case against the running function server, with the full XR (-x,
 * so the output validates against the XRD) and the function's results (-r). The XRD applies
 * its defaults to the XR first, as the API server would.
 */
export function renderArgs(example: RenderCase, target: string, requiredFlag: string): string[] {
  return [
    'render',
    example.xrFile,
    example.compositionFile,
    FUNCTIONS_FILE,
    '--include-full-xr',
    '--include-function-results',
    `--function-annotations=${DEVELOPMENT_TARGET_ANNOTATION}=${target}`,
    '--timeout=60s',
    `--xrd=${example.xrdFile}`,
    ...(example.observedDir ? [`--observed-resources=${example.observedDir}`] : []),
    ...(example.requiredDir ? [`${requiredFlag}=${example.requiredDir}`] : []),
  ];
}

/** `--required-resources` where this crank has it, else the older `--extra-resources`. */
export async function requiredResourcesFlag(binary: string): Promise<string> {
  const help = await run(binary, ['render', '--help']);
  if (help.stdout.includes('--required-resources')) return '--required-resources';
  if (help.stdout.includes('--extra-resources')) return '--extra-resources';
  throw new Error(`${binary} render has neither --required-resources nor --extra-resources:\n${help.stdout}`);
}

/** The documents of a multi-document YAML stream; a YAML error is an error, not an empty list. */
export function parseDocuments(text: string): JsonObject[] {
  const objects: JsonObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new Error(document.errors.map((e) => e.message).join('\n'));
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (!isObject(value)) throw new Error(`a YAML document is not an object: ${JSON.stringify(value)}`);
    objects.push(value);
  }
  return objects;
}

/** Canonical text for an expectation file: one document per object, keys sorted. */
export function canonicalYaml(objects: readonly JsonObject[]): string {
  return objects.map((o) => `---\n${stringify(o, { lineWidth: 0, sortMapEntries: true })}`).join('');
}

/** Render's own output kinds, which have no schema anywhere (function results and context). */
function isRenderOutputKind(object: JsonObject): boolean {
  return typeof object.apiVersion === 'string' && object.apiVersion.startsWith('render.crossplane.io/');
}

/**
 * The Crossplane image whose CRDs `crossplane beta validate` loads for Crossplane's own types.
 * Its schemas come from ../shared/crds (copied from crossplane/crossplane at this tag), written
 * into the validate cache so that validate never downloads the image.
 */
const CROSSPLANE_IMAGE = 'xpkg.crossplane.io/crossplane/crossplane:v2.3.4';

function isCrossplaneCrdFile(file: string): boolean {
  return file.endsWith('.crossplane.io.yaml');
}

/** The upstream CRD files; throws (never skips) when ../shared/crds is missing or empty. */
export function sharedCrdFiles(): string[] {
  const dir = resolve(REPO_ROOT, '..', 'shared', 'crds');
  if (!existsSync(dir)) {
    throw new Error(
      `the upstream CRDs are missing: expected them in ${dir} (the shared/ folder beside the repository)`,
    );
  }
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(dir, f));
  if (!files.some(isCrossplaneCrdFile) || files.length < 2) {
    throw new Error(`${dir} does not hold the upstream CRDs (no *.crossplane.io.yaml found)`);
  }
  return files;
}

/**
 * Fills a `crossplane beta validate` cache so validate needs no network.
 *
 * validate always loads the schemas of a Crossplane image (`--crossplane-image`, by default
 * xpkg.crossplane.io/crossplane/crossplane:<its own version>). Its cache (`--cache-dir`) keeps
 * one folder per image, named after the image with ':' replaced by '@', holding package.yaml
 * (the image's CRDs as a YAML stream); a folder that exists is loaded and nothing is
 * downloaded (cmd/crank/beta/validate/cache.go: LocalCache.Exists/Load). Writing the
 * Crossplane CRDs from ../shared/crds there is exactly what a download would have stored.
 */
export function prefillValidateCache(cacheDir: string, image = CROSSPLANE_IMAGE): string {
  const imageDir = join(cacheDir, image.replaceAll(':', '@'));
  mkdirSync(imageDir, { recursive: true });
  const crds = sharedCrdFiles()
    .filter(isCrossplaneCrdFile)
    .map((file) => readFileSync(file, 'utf8').trimEnd() + '\n');
  writeFileSync(join(imageDir, 'package.yaml'), crds.map((crd) => `---\n${crd}`).join(''));
  return imageDir;
}

/** pgplane's own CRDs that the function composes (Grant, ProviderConfig), generated from zod. */
const PROVIDER_CRDS_DIR = join(REPO_ROOT, 'package/provider/crds');

/**
 * The extensions validate loads from files: the given XRDs (or other CRD files), pgplane's provider CRDs, and the
 * upstream CRDs that are not Crossplane's own (those are in the prefilled cache; loading them
 * twice would make validate run, and report, every check twice).
 *
 * One XRD at a time: the namespaced XR and the legacy claim share database.pgplane.io/v1alpha1
 * PostgresInstance, and validate checks an object against every schema loaded for its kind.
 */
export const INPUT_CRD_FILE = join(REPO_ROOT, 'package/function/input/pgplane.fn.crossplane.io_inputs.yaml');

function validateExtensions(xrdFiles: readonly string[]): string[] {
  for (const file of xrdFiles) {
    if (!existsSync(file)) throw new Error(`no ${file}: generate it with \`npm run generate\``);
  }
  return [
    ...xrdFiles,
    ...(existsSync(PROVIDER_CRDS_DIR) ? [PROVIDER_CRDS_DIR] : []),
    ...sharedCrdFiles().filter((f) => !isCrossplaneCrdFile(f)),
  ];
}

export interface ValidateOutcome {
  /** Every problem found: validate's [x]/[!] lines, its exit status, core-kind problems. */
  problems: string[];
  output: string;
}

/**
 * Validates render output: core kinds (Secret) with kubernetes-models and a closed field list
 * (no CRD exists for them), everything else with `crossplane beta validate`, which checks the
 * OpenAPI schema, CEL rules and unknown fields (it reports unknown fields as schema errors and
 * counts them as failures) and, with --error-on-missing-schemas, fails a kind with no schema.
 */
export async function validateRendered(
  binary: string,
  xrdFiles: readonly string[],
  objects: readonly JsonObject[],
  workDir: string,
  cacheDir: string,
): Promise<ValidateOutcome> {
  const problems: string[] = [];
  const forCrank: JsonObject[] = [];
  for (const object of objects) {
    if (isRenderOutputKind(object)) continue;
    if (isCoreKind(object)) {
      const name = `${String(object.kind)} ${JSON.stringify(getName(object))}`;
      problems.push(...validateCoreKind(object).map((p) => `${name}: ${p}`));
    } else {
      forCrank.push(object);
    }
  }
  if (forCrank.length === 0) return { problems, output: '' };

  mkdirSync(workDir, { recursive: true });
  const resourcesFile = join(workDir, 'resources.yaml');
  writeFileSync(resourcesFile, canonicalYaml(forCrank));
  const result = await run(binary, [
    'beta',
    'validate',
    validateExtensions(xrdFiles).join(','),
    resourcesFile,
    `--cache-dir=${cacheDir}`,
    `--crossplane-image=${CROSSPLANE_IMAGE}`,
    '--error-on-missing-schemas',
  ]);
  const output = `${result.stdout}${result.stderr}`;
  problems.push(...crankProblems(output, forCrank.length));
  if (result.code !== 0) problems.push(`crossplane beta validate exited with ${result.code}`);
  return { problems, output };
}

/**
 * Problems in validate's report. Besides its exit status, read the report itself: any [x] or
 * [!] line (schema/CEL error, missing schema, defaults that failed, a download attempt) is a
 * problem, and the summary must count every resource as a success.
 */
function crankProblems(output: string, resources: number): string[] {
  const problems: string[] = [];
  for (const line of output.split('\n')) {
    if (/^\[(x|!)\]/.test(line) || /downloading/i.test(line)) problems.push(line.trim());
  }
  const summary =
    /Total (\d+) resources: (\d+) missing schemas, (\d+) success cases, (\d+) failure cases/.exec(output);
  if (!summary) {
    problems.push('no "Total ... resources" summary in the output of crossplane beta validate');
  } else {
    // validate also counts what it finds inside objects (a Composition's step inputs), so the
    // total may exceed what was passed; every one of them must be a success.
    const [, total, missing, successes, failures] = summary.map(Number);
    if (total! < resources || missing !== 0 || failures !== 0 || successes !== total) {
      problems.push(`expected all of at least ${resources} resources to succeed: ${summary[0]}`);
    }
  }
  return problems;
}

function getName(object: JsonObject): string {
  const metadata = object.metadata;
  if (!isObject(metadata)) return '';
  return typeof metadata.name === 'string' ? metadata.name : '';
}

/** Whether this run may rewrite expectation files (never in CI). */
export function updatingExpectations(): boolean {
  const wanted = process.env['UPDATE_EXPECTED'] === '1';
  if (wanted && process.env['CI']) {
    throw new Error('UPDATE_EXPECTED=1 is refused when CI is set: CI must fail on drift, never rewrite');
  }
  return wanted;
}
