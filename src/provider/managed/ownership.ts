// Which object manages a role or a database on the server. A Role or Database that creates one
// marks it with a comment naming itself (COMMENT ON ROLE/DATABASE: pg_shdescription, visible to
// every session, kept with the object); before it changes or drops one it checks the mark. So two
// objects naming one role cannot fight over it (the second is refused, naming the first), and a
// role the platform made by hand is not taken over by a Role that happens to name it. An object
// re-created under the same kind, namespace and name (the Orphan-then-recreate path) takes over
// its predecessor's mark; an unmarked one is adopted only on request (ADOPT_ANNOTATION). Pure.

import { ReconcileFailure } from './messages.js';

export const ADOPT_ANNOTATION = 'grants.pgplane.io/adopt';

const PREFIX = 'managed by grants.pgplane.io';
const MARK = /^managed by grants\.pgplane\.io (\w+) ([^/\s]+)\/(\S+) \(uid ([0-9a-fA-F-]+)\)/;

export interface Owner {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** The owner a managed object writes into its mark. */
export function ownerOf(
  kind: string,
  metadata: { readonly namespace: string; readonly name: string; readonly uid?: string | undefined },
): Owner {
  const { namespace, name, uid } = metadata;
  // The mark names the uid: without one, the next reconcile could not recognise its own mark.
  if (!uid)
    throw new ReconcileFailure(
      `${kind} ${namespace}/${name} has no metadata.uid to mark its server object with`,
    );
  return { kind, namespace, name, uid };
}

/** The comment that marks a server object as this object's. */
export function ownershipComment(owner: Owner): string {
  return `${PREFIX} ${owner.kind} ${owner.namespace}/${owner.name} (uid ${owner.uid})`;
}

export function parseOwnership(comment: string | null | undefined): Owner | undefined {
  const match = comment ? MARK.exec(comment) : null;
  if (!match) return undefined;
  const [, kind, namespace, name, uid] = match as unknown as [string, string, string, string, string];
  return { kind, namespace, name, uid };
}

export type Claim =
  /** Nobody else's: go ahead (write the mark when it is missing or stale). */
  { readonly ours: true; readonly remark: boolean } | { readonly ours: false; readonly problem: string };

/**
 * Whether `owner` may manage the server object `what` ("role \"app\""), given its current comment.
 * `adopt` is the object's ADOPT_ANNOTATION.
 */
export function claim(what: string, comment: string | null | undefined, owner: Owner, adopt: boolean): Claim {
  const current = parseOwnership(comment);
  if (current) {
    if (current.uid === owner.uid) return { ours: true, remark: false };
    if (current.kind === owner.kind && current.namespace === owner.namespace && current.name === owner.name)
      return { ours: true, remark: true };
    return {
      ours: false,
      problem: `${what} is managed by ${current.kind} ${current.namespace}/${current.name}, not by this ${owner.kind} ${owner.namespace}/${owner.name}; two objects cannot manage one ${what.split(' ')[0]}: delete one of them, or name another`,
    };
  }
  if (adopt) return { ours: true, remark: true };
  return {
    ours: false,
    problem: `${what} already exists and no ${owner.kind} manages it; to take it over, annotate this ${owner.kind} with ${ADOPT_ANNOTATION}: "true"`,
  };
}
