// An access entry becomes a Grant: the grants engine's own schema has the last word on it, so an
// entry the provider would refuse is refused here, on the claim, with the entry's path.
import { grantParameters } from '../../api/grant.js';
import { FIELD_EXAMPLES, type PostgresInstanceSpec } from '../../api/postgres-instance.js';
import { schemaNameProblem } from '../../api/names.js';
import type { FieldError } from './errors.js';

export function accessErrors(spec: Pick<PostgresInstanceSpec, 'databaseName' | 'access'>): FieldError[] {
  const errors: FieldError[] = [];
  const example = FIELD_EXAMPLES['access.tables']!;
  for (const [index, entry] of (spec.access ?? []).entries()) {
    const { role, login: _login, ...privileges } = entry;
    const parsed = grantParameters.safeParse({
      database: spec.databaseName,
      grantee: role,
      mode: 'authoritative',
      ...privileges,
    });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        errors.push({
          field: `spec.access[${index}]${issue.path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('')}`,
          problem: issue.message,
          example,
        });
      }
    }
    errors.push(...reservedSchemaErrors(index, entry));
  }
  return errors;
}

/**
 * Grants name schemas as PostgreSQL spells them (any name), but a claim's grants stay inside the
 * application's own schemas: privileges on pg_catalog or information_schema are not the team's to hand out.
 */
function reservedSchemaErrors(
  index: number,
  entry: NonNullable<PostgresInstanceSpec['access']>[number],
): FieldError[] {
  const named = [
    ...(entry.schemas ?? []).map((s, i) => [`schemas[${i}].name`, s.name] as const),
    ...(entry.tables ?? []).map((t, i) => [`tables[${i}].schema`, t.schema] as const),
    ...(entry.sequences ?? []).map((t, i) => [`sequences[${i}].schema`, t.schema] as const),
    ...(entry.functions ?? []).map((t, i) => [`functions[${i}].schema`, t.schema] as const),
    ...(entry.columns ?? []).map((t, i) => [`columns[${i}].schema`, t.schema] as const),
  ];
  return named.flatMap(([path, schema]) => {
    const problem = reservedSchemaProblem(schema);
    return problem
      ? [
          {
            field: `spec.access[${index}].${path}`,
            problem: `"${schema}" ${problem}`,
            example: FIELD_EXAMPLES['access.tables']!,
          },
        ]
      : [];
  });
}

function reservedSchemaProblem(schema: string): string | undefined {
  const lower = schema.toLowerCase();
  // Only the reserved-name rules: access entries may name schemas with any characters.
  if (lower === 'information_schema' || lower.startsWith('pg_')) return schemaNameProblem(lower);
  return undefined;
}
