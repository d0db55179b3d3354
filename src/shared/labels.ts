// Names of things every builder must agree on: labels, annotations, composed-resource keys.

const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
const MANAGED_BY = 'pgplane';
const INSTANCE_LABEL = 'pgplane.io/instance';
const COMPONENT_LABEL = 'app.kubernetes.io/component';

/** CNPG restarts or reloads instances when a Secret with this label changes (password rotation). */
export const CNPG_RELOAD_LABEL = 'cnpg.io/reload';
/** CNPG hibernation: "on" stops the pods and keeps the PVCs. */
export const CNPG_HIBERNATION_ANNOTATION = 'cnpg.io/hibernation';

/** Keys of the composed resources in the desired state. Stable: renaming one deletes the object. */
export const RESOURCE_KEYS = {
  cluster: 'cluster',
  credentials: 'credentials',
  connection: 'connection',
} as const;

/** Key under which the function asks Crossplane for the existing credentials Secret. */
export const REQUIRED_CREDENTIALS_SECRET = 'credentials-secret';

export const POSTGRES_PORT = 5432;

export function commonLabels(instance: string, component: string): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY, [INSTANCE_LABEL]: instance, [COMPONENT_LABEL]: component };
}
