// Reading the Dockerfile as Docker resolves it (stages, inheritance, exec form), for the tests
// that check its promises and for the benches that run a program the way its image does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  base: string;
  name?: string;
  instructions: Instruction[];
}

/** Instructions with line continuations joined and comments dropped (enough for this file). */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending !== '' && line.startsWith('#')) return;
    if (pending === '') startLine = index + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      return;
    }
    const full = `${pending}${line}`.trim();
    pending = '';
    const match = /^(\S+)\s*(.*)$/.exec(full);
    if (match) instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!, line: startLine });
  });
  return instructions;
}

export function stagesOf(instructions: readonly Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const parts = instruction.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const asIndex = parts.findIndex((p) => p.toUpperCase() === 'AS');
      stages.push({
        base: parts[0] ?? '',
        ...(asIndex >= 0 && parts[asIndex + 1] ? { name: parts[asIndex + 1] } : {}),
        instructions: [],
      });
    } else {
      const current = stages.at(-1);
      if (!current) throw new Error(`line ${instruction.line}: ${instruction.keyword} before FROM`);
      current.instructions.push(instruction);
    }
  }
  return stages;
}

/** A target's stage and its ancestors (FROM <earlier stage>), nearest first. */
export function chain(stages: readonly Stage[], stage: Stage): Stage[] {
  const out = [stage];
  let current = stage;
  for (;;) {
    const parent = stages.find((s) => s.name === current.base);
    if (!parent || out.includes(parent)) return out;
    out.push(parent);
    current = parent;
  }
}

/** The last value of an instruction in a target, as Docker resolves it through its stages. */
export function effective(stages: readonly Stage[], stage: Stage, keyword: string): Instruction | undefined {
  for (const s of chain(stages, stage)) {
    const found = s.instructions.filter((i) => i.keyword === keyword).at(-1);
    if (found) return found;
  }
  return undefined;
}

export function all(stages: readonly Stage[], stage: Stage, keyword: string): Instruction[] {
  return chain(stages, stage).flatMap((s) => s.instructions.filter((i) => i.keyword === keyword));
}

/** Exec form: a JSON array of strings (shell form would make /bin/sh PID 1, and distroless has none). */
export function execForm(instruction: Instruction | undefined): string[] {
  if (!instruction) throw new Error('missing instruction');
  const value: unknown = JSON.parse(instruction.args);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(
      `line ${instruction.line}: ${instruction.keyword} is not in exec form: ${instruction.args}`,
    );
  }
  return value;
}

/** The Dockerfile under root, read, and the stage of one build target. */
function targetStage(root: string, target: string): { stages: Stage[]; stage: Stage } {
  const stages = stagesOf(parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8')));
  const stage = stages.find((s) => s.name === target);
  if (!stage) throw new Error(`the Dockerfile has no stage named ${target}`);
  return { stages, stage };
}

/**
 * How a target's image starts its program: the node flags before the script, the script, and the
 * arguments (ENTRYPOINT then CMD), e.g. the provider's memory flags.
 */
export function imageCommand(
  root: string,
  target: string,
): { nodeFlags: string[]; script: string; args: string[] } {
  const { stages, stage } = targetStage(root, target);
  const [, ...entry] = execForm(effective(stages, stage, 'ENTRYPOINT'));
  const at = entry.findIndex((arg) => !arg.startsWith('-'));
  if (at < 0) throw new Error(`the ${target} ENTRYPOINT names no script`);
  return {
    nodeFlags: entry.slice(0, at),
    script: entry[at]!,
    args: [...entry.slice(at + 1), ...execForm(effective(stages, stage, 'CMD'))],
  };
}

/**
 * The Node major a target's image runs: the first "node"/"nodejs" version in the base image its
 * stages start from (gcr.io/distroless/nodejs24-debian12 → 24).
 */
export function imageNodeMajor(root: string, target: string): number {
  const { stages, stage } = targetStage(root, target);
  const base = chain(stages, stage).at(-1)!.base;
  const major = /(?:^|\/)node(?:js)?:?(\d+)/.exec(base)?.[1];
  if (!major) throw new Error(`cannot tell the Node version of the ${target} image from its base ${base}`);
  return Number(major);
}
