// How a kind's client turns its document parser into the lifecycle's Parsed: the spec with the
// policies the lifecycle honours, or the validation problems as the Synced=False message.
import { ManagedValidationError } from '../../api/managed-resource.js';
import type { Parsed } from './reconciler.js';

interface ManagedDocumentSpec<ForProvider> {
  readonly spec: {
    readonly forProvider: ForProvider;
    readonly managementPolicies?: readonly string[] | undefined;
    readonly deletionPolicy?: 'Delete' | 'Orphan' | undefined;
  };
}

export function parsedSpec<ForProvider>(
  parse: (document: unknown, origin: string) => ManagedDocumentSpec<ForProvider>,
  object: unknown,
  key: string,
): Parsed<ForProvider> {
  try {
    const { spec } = parse(object, key);
    return {
      spec: spec.forProvider,
      managementPolicies: spec.managementPolicies,
      deletionPolicy: spec.deletionPolicy,
    };
  } catch (error) {
    if (error instanceof ManagedValidationError)
      return { invalid: `invalid spec: ${error.problems.join('; ')}` };
    throw error;
  }
}
