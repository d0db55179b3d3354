// The control-plane tools: Crossplane core and the in-memory OCI registry, built by
// test/tools/control-plane/install.sh (cached after the first run), plus Crossplane's own CRDs and
// Helm chart templates it copies from the Crossplane module.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONTROL_PLANE_INSTALL_SCRIPT = fileURLToPath(
  new URL('../tools/control-plane/install.sh', import.meta.url),
);

export interface ControlPlaneTools {
  /** Crossplane core: `core init`, `core start`, `rbac start`. */
  crossplane: string;
  registry: string;
  /** Crossplane's CRDs as released (CRDS_PATH for `core init`). */
  crdsDir: string;
  /** Crossplane's Helm chart templates (its ClusterRoles and bindings). */
  chartTemplatesDir: string;
}

/** Runs install.sh (a no-op when cached; a cold build takes minutes) and returns the tools. */
export async function installControlPlaneTools(): Promise<ControlPlaneTools> {
  const child = spawn(CONTROL_PLANE_INSTALL_SCRIPT, [], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`${CONTROL_PLANE_INSTALL_SCRIPT} failed with exit code ${String(code)}`);
  const root = out.trim().split('\n').at(-1) ?? '';
  const tools: ControlPlaneTools = {
    crossplane: join(root, 'bin/crossplane'),
    registry: join(root, 'bin/registry'),
    crdsDir: join(root, 'crds'),
    chartTemplatesDir: join(root, 'chart-templates'),
  };
  for (const path of Object.values(tools)) {
    if (!existsSync(path))
      throw new Error(`${CONTROL_PLANE_INSTALL_SCRIPT} printed ${root}, which holds no ${path}`);
  }
  return tools;
}
