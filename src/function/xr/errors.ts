// Validation errors a person can act on: the field, what is wrong, and a correct example.
import type { core } from 'zod';
import { describeValue, getPath } from '../../shared/json.js';

export interface FieldError {
  /** Dotted path from the object root, e.g. "spec.databaseOwner". */
  field: string;
  problem: string;
  example?: string;
}

function formatFieldError(error: FieldError): string {
  return `${error.field} ${error.problem}${error.example ? `. Example: ${error.example}` : ''}`;
}

export function formatErrors(subject: string, errors: readonly FieldError[]): string {
  return `${subject} is invalid: ${errors.map(formatFieldError).join('; ')}`;
}

function dottedPath(path: readonly PropertyKey[]): string {
  return path
    .map((key) => (typeof key === 'number' ? `[${key}]` : String(key)))
    .join('.')
    .replace(/\.\[/g, '[');
}

function describeIssue(issue: core.$ZodIssue, input: unknown): string {
  const value = getPath(input, ...issue.path.map(String));
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return 'is required';
      if (issue.expected === 'string' && typeof value === 'number') {
        return `must be a string, got the number ${value}: quote it`;
      }
      return `must be ${issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`}, got ${describeValue(value)}`;
    case 'invalid_value':
      // YAML reads `version: 16` as a number; the allowed values are strings.
      if (typeof value === 'number' && issue.values.includes(String(value))) {
        return `must be a string, got the number ${value}: quote it`;
      }
      return `is ${describeValue(value)}; allowed: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return issue.origin === 'string'
        ? `must not be empty`
        : `must be at least ${String(issue.minimum)}, got ${describeValue(value)}`;
    case 'too_big':
      return issue.origin === 'string'
        ? `is too long (at most ${String(issue.maximum)} characters)`
        : `must be at most ${String(issue.maximum)}, got ${describeValue(value)}`;
    case 'invalid_format':
      // A schema that explains its pattern in words says it better than the regular expression.
      if (!issue.message.startsWith('Invalid')) return `${describeValue(value)} ${issue.message}`;
      return `${describeValue(value)} has the wrong format (${issue.format === 'regex' ? `must match ${issue.pattern ?? 'the pattern'}` : issue.format})`;
    case 'unrecognized_keys':
      return `has unknown field(s) ${issue.keys.join(', ')}`;
    case 'custom':
      return value === undefined ? issue.message : `${describeValue(value)} ${issue.message}`;
    default:
      return issue.message;
  }
}

/**
 * Turns zod issues into one error per field. Where a field fails several checks (a pattern and the
 * friendlier custom rule that explains it), the custom rule's message wins.
 */
export function fieldErrors(
  issues: readonly core.$ZodIssue[],
  input: unknown,
  options: { prefix: string; examples: Readonly<Record<string, string>> },
): FieldError[] {
  const byField = new Map<string, core.$ZodIssue>();
  for (const issue of issues) {
    const key = dottedPath(issue.path);
    const seen = byField.get(key);
    if (!seen || (issue.code === 'custom' && seen.code !== 'custom')) byField.set(key, issue);
  }
  return [...byField.entries()].map(([key, issue]) => {
    const example = exampleFor(key.replace(/\[\d+\]/g, ''), options.examples);
    return {
      field: key ? `${options.prefix}.${key}` : options.prefix,
      problem: describeIssue(issue, input),
      ...(example ? { example } : {}),
    };
  });
}

/** The example for a field, or for the nearest enclosing field that has one. */
function exampleFor(field: string, examples: Readonly<Record<string, string>>): string | undefined {
  for (let path = field; path; path = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '') {
    const example = examples[path];
    if (example) return example;
  }
  return undefined;
}
