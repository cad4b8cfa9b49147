import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { CriticalityLevel, diff } from '@graphql-inspector/core';
import { buildSchema } from 'graphql';

/**
 * The API only grows: fields are deprecated, not deleted. `schema:check` compares the committed schema.graphql with
 * the one on the main branch's last commit and fails on a breaking change (graphql-inspector's rules: a removed type
 * or field, an argument made required, a type changed, ...), unless a commit since then acknowledges it with a
 * `Schema-Break: <why>` trailer in its message (or, for uncommitted work, STREAMSPACE_SCHEMA_BREAK=<why>).
 * See docs/decisions/0006-schema-only-grows.md.
 */
export const SCHEMA_BREAK_TRAILER = 'Schema-Break';

export interface SchemaChange {
  message: string;
  path?: string;
}

export async function breakingChanges(baselineSdl: string, currentSdl: string): Promise<SchemaChange[]> {
  const changes = await diff(buildSchema(baselineSdl), buildSchema(currentSdl));
  return changes
    .filter((change) => change.criticality.level === CriticalityLevel.Breaking)
    .map((change) => ({ message: change.message, path: change.path }));
}

export type SchemaBaseline =
  | { available: true; ref: string; commit: string; sdl: string | undefined; acknowledgements: string[] }
  | { available: false; reason: string };

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryGit(cwd: string, args: string[]): string | undefined {
  try {
    return git(cwd, args).trim();
  } catch {
    return undefined;
  }
}

/**
 * The schema to compare with: `schemaFile` as of the base ref (STREAMSPACE_SCHEMA_BASE, default `main`, else
 * `origin/main`). When HEAD is that commit (a checkout of main itself), its first parent is the base, so the commit
 * that lands is still checked. Acknowledgements are the `Schema-Break:` trailers of the commits in base..HEAD.
 */
export function readSchemaBaseline(schemaFile: string, baseRef = process.env.STREAMSPACE_SCHEMA_BASE): SchemaBaseline {
  const dir = path.dirname(schemaFile);
  const top = tryGit(dir, ['rev-parse', '--show-toplevel']);
  if (!top) return { available: false, reason: `${dir} is not inside a git checkout` };
  const head = tryGit(top, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
  if (!head) return { available: false, reason: 'the checkout has no commit yet' };
  const candidates = baseRef ? [baseRef] : ['main', 'origin/main'];
  let ref: string | undefined;
  let commit: string | undefined;
  for (const candidate of candidates) {
    commit = tryGit(top, ['rev-parse', '--verify', '--quiet', `${candidate}^{commit}`]);
    if (commit) {
      ref = candidate;
      break;
    }
  }
  if (!ref || !commit) return { available: false, reason: `no base branch found (tried ${candidates.join(', ')}; set STREAMSPACE_SCHEMA_BASE)` };
  if (commit === head) {
    const parent = tryGit(top, ['rev-parse', '--verify', '--quiet', 'HEAD^1^{commit}']);
    if (!parent) return { available: false, reason: `HEAD is ${ref} and has no parent commit to compare with` };
    ref = `${ref}^`;
    commit = parent;
  }
  const relative = path.relative(top, schemaFile).split(path.sep).join('/');
  const sdl = tryGit(top, ['show', `${commit}:${relative}`]);
  const log = tryGit(top, ['log', '--format=%B%x00', `${commit}..HEAD`]) ?? '';
  const acknowledgements = [...log.matchAll(new RegExp(`^${SCHEMA_BREAK_TRAILER}:\\s*(.+)$`, 'gim'))].map((m) => m[1].trim());
  const fromEnv = process.env.STREAMSPACE_SCHEMA_BREAK?.trim();
  if (fromEnv) acknowledgements.push(fromEnv);
  return { available: true, ref, commit, sdl, acknowledgements };
}

export interface CompatibilityVerdict {
  ok: boolean;
  /** Lines to print, one per finding. */
  lines: string[];
}

/** Checks `currentSdl` against the baseline; a break fails unless acknowledged. */
export async function checkSchemaCompatibility(currentSdl: string, baseline: SchemaBaseline): Promise<CompatibilityVerdict> {
  if (!baseline.available) return { ok: true, lines: [`breaking-change check not run: ${baseline.reason}`] };
  const base = `${baseline.ref} (${baseline.commit.slice(0, 12)})`;
  if (baseline.sdl === undefined) return { ok: true, lines: [`no schema.graphql at ${base}: nothing to compare with`] };
  const breaks = await breakingChanges(baseline.sdl, currentSdl);
  if (breaks.length === 0) return { ok: true, lines: [`no breaking change against ${base}`] };
  const listed = breaks.map((b) => `  - ${b.message}${b.path ? ` [${b.path}]` : ''}`);
  if (baseline.acknowledgements.length > 0) {
    return {
      ok: true,
      lines: [`${breaks.length} breaking change(s) against ${base}, acknowledged (${baseline.acknowledgements.join('; ')}):`, ...listed],
    };
  }
  return {
    ok: false,
    lines: [
      `${breaks.length} breaking change(s) against ${base}:`,
      ...listed,
      'Deprecate instead of removing or changing (@Field({ deprecationReason })). If the break is intended, say why in a',
      `"${SCHEMA_BREAK_TRAILER}: <reason>" line of the commit message (or STREAMSPACE_SCHEMA_BREAK=<reason> before committing).`,
    ],
  };
}
