// The zod every API schema of the provider is written with: zod/mini, with English messages.
// Import it as a namespace (`import * as z from './zod.js'`): the bundler then keeps only the
// functions a schema calls.
//
// Why mini: the classic API puts its methods on every schema instance and brings the whole
// library (every locale included) into a bundle that uses any of it. With it the grants
// provider's bundle was 1.29 MB, 550 KB of it zod, and 73 MiB resident at rest on Node 24; with
// mini 0.74 MB and 65 MiB, against a target of using no more memory than provider-sql, a Go
// binary (issue 15). mini is a set of functions over the same core: the same parsing, messages
// and JSON Schema; the CRDs generated from it are byte for byte those of the classic API.
//
// The function's schemas (postgres-instance, postgres-database, instance-features,
// function-input) are still classic and hold mini ones (identifier-schemas, the Grant sections):
// both are schemas of the one core, and classic's z.optional(), z._default() and the rest take
// either.
import { config, describe, type ZodMiniType } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// mini ships no messages of its own; the classic API loads the same English ones on import.
config(en());

export * from 'zod/mini';

/** The schema with a description (classic's `.describe()`): a copy, so a shared schema keeps its own. */
export function described<T extends ZodMiniType>(schema: T, description: string): T {
  return schema.check(describe(description));
}
