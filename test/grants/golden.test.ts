// The golden comparison: the planner's statements, drift, problems and records for every input of
// plan.test.ts and for a few hundred generated specs × snapshots × records, captured from the
// planner before the privilege kinds became descriptors (commit history: "golden plans"). A
// refactor of the planner must give the same statements in the same order for the same inputs.
// Regenerate only on a deliberate behaviour change: PGPLANE_GOLDEN_WRITE=1 npx vitest run test/grants/golden.test.ts
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { grantParameters } from '../../src/api/grant.js';
import { planGrants, type Plan } from '../../src/grants/plan.js';
import { describeRecordKey } from '../../src/grants/record.js';
import { normalisePolicy } from '../../src/grants/spec.js';
import { generatedInputs, type GoldenInput } from './golden/generate.js';

const FILE = new URL('./golden/plans.jsonl', import.meta.url);
const PLAN_TEST_INPUTS = new URL('./golden/plan-test-inputs.jsonl', import.meta.url);

interface GoldenCase {
  readonly input: GoldenInput;
  readonly plan: Plan;
}

/** One JSON value per line: prettier leaves .jsonl alone, and a diff shows which case moved. */
function readLines<T>(file: URL): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T);
}

/** Records with every key in its readable (version-1) form, sorted as version 1 sorted them. */
function readable(records: Plan['records']): Plan['records'] {
  return Object.fromEntries(
    Object.entries(records).map(([name, r]) => [
      name,
      { ...r, grants: r.grants.map(describeRecordKey).sort() },
    ]),
  );
}

function plan(input: GoldenInput): Plan {
  const policies = input.grants.map((g) => normalisePolicy(g.name, grantParameters.parse(g.parameters)));
  return planGrants(policies, input.snapshot, input.previous);
}

if (process.env.PGPLANE_GOLDEN_WRITE) {
  const inputs: GoldenInput[] = [...readLines<GoldenInput>(PLAN_TEST_INPUTS), ...generatedInputs(400)];
  const cases: GoldenCase[] = inputs.map((input) => ({ input, plan: plan(input) }));
  writeFileSync(FILE, cases.map((c) => JSON.stringify(c)).join('\n') + '\n');
}

describe('golden plans', () => {
  const cases = existsSync(FILE) ? readLines<GoldenCase>(FILE) : [];

  it('has the captured cases, most of them planning something', () => {
    expect(cases.length).toBeGreaterThan(400);
    expect(cases.filter((c) => c.plan.statements.length > 0).length).toBeGreaterThan(200);
  });

  it('plans every captured input exactly as before: same statements in the same order, same drift', () => {
    for (const [i, c] of cases.entries()) {
      const now = plan(c.input);
      expect({ case: i, statements: now.statements }).toEqual({ case: i, statements: c.plan.statements });
      expect({ case: i, drift: now.drift, problems: now.problems }).toEqual({
        case: i,
        drift: c.plan.drift,
        problems: c.plan.problems,
      });
      // Records are now written as version-2 keys; read back, they name the same grants.
      expect({ case: i, records: readable(now.records) }).toEqual({ case: i, records: c.plan.records });
    }
  });
});
