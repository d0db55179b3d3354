// Crossplane's own RBAC, read from the Helm chart templates of the Crossplane release under test,
// so the control-plane suite runs Crossplane with exactly the rights a Helm install gives it (and
// not cluster-admin). No Helm here: the few template directives those files use are rendered with
// the chart's default values, and any other directive is an error, so a chart change that this
// renderer does not understand fails loudly instead of silently granting something else.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isObject, type JsonObject } from '../../src/shared/json.js';

/** The chart's templates that hold Crossplane's and the RBAC manager's ClusterRoles and bindings. */
const RBAC_TEMPLATES = [
  'clusterrole.yaml',
  'clusterrolebinding.yaml',
  'rbac-manager-clusterrole.yaml',
  'rbac-manager-clusterrolebinding.yaml',
  'rbac-manager-allowed-provider-permissions.yaml',
  'rbac-manager-managed-clusterroles.yaml',
];

/** Values for the directives, as the chart's values.yaml defaults them (release "crossplane"). */
const SUBSTITUTIONS: Readonly<Record<string, string>> = {
  'template "crossplane.name" .': 'crossplane',
  '.Release.Namespace': 'crossplane-system',
};
const CONDITIONS: Readonly<Record<string, boolean>> = {
  '.Values.rbacManager.deploy': true,
  'not .Values.serviceAccount.create': false,
  'not .Values.rbacManager.skipAggregatedClusterRoles': true,
};

/** Renders one template's text; throws on a directive it does not know. */
function renderTemplate(text: string, file: string): string {
  const out: string[] = [];
  // Each entry: is this branch taken? (an else flips the innermost).
  const branches: boolean[] = [];
  const taken = (): boolean => branches.every(Boolean);
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    const control = /^\{\{-?\s*(if|else|end)\b\s*(.*?)\s*-?\}\}$/.exec(trimmed);
    if (control) {
      const [, keyword, condition = ''] = control;
      if (keyword === 'if') {
        const value = CONDITIONS[condition];
        if (value === undefined) throw new Error(`${file}: unknown condition {{ if ${condition} }}`);
        branches.push(value);
      } else if (keyword === 'else') {
        const last = branches.pop();
        if (last === undefined) throw new Error(`${file}: else without if`);
        branches.push(!last);
      } else {
        if (branches.pop() === undefined) throw new Error(`${file}: end without if`);
      }
      continue;
    }
    // Labels the chart adds for Helm's bookkeeping; they grant nothing.
    if (/^\{\{-?\s*include "crossplane\.labels" \. \| indent \d+\s*\}\}$/.test(trimmed)) continue;
    if (!taken()) continue;
    out.push(
      line.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_match, expression: string) => {
        const value = SUBSTITUTIONS[expression];
        if (value === undefined) throw new Error(`${file}: unknown template expression {{ ${expression} }}`);
        return value;
      }),
    );
  }
  if (branches.length > 0) throw new Error(`${file}: unterminated if`);
  return out.join('\n');
}

/** Every ClusterRole and ClusterRoleBinding the chart installs for Crossplane and its RBAC manager. */
export function crossplaneChartRbac(templatesDir: string): JsonObject[] {
  return RBAC_TEMPLATES.flatMap((file) => {
    const text = renderTemplate(readFileSync(join(templatesDir, file), 'utf8'), file);
    return parseAllDocuments(text)
      .map((doc) => {
        if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
        return doc.toJS() as unknown;
      })
      .filter(isObject)
      .map((object) => {
        // Drop the empty labels map the removed include leaves behind.
        const metadata = object['metadata'];
        if (isObject(metadata) && metadata['labels'] === null) delete metadata['labels'];
        return object;
      });
  });
}
