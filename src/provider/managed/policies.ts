// Crossplane's management policies, reduced to the two questions the lifecycle asks.

export interface Policies {
  /** May the external resource be created or changed to match the spec? */
  readonly apply: boolean;
  /** May it be removed when the object is deleted? */
  readonly delete: boolean;
}

/** ["*"] (the default) does everything; ["Observe"] applies nothing. */
export function managementPolicies(list: readonly string[] | undefined): Policies {
  const set = new Set(list && list.length > 0 ? list : ['*']);
  const all = set.has('*');
  return { apply: all || set.has('Create') || set.has('Update'), delete: all || set.has('Delete') };
}
