import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface BuildInfo {
  version: string;
  commit: string;
  buildDate: string;
}

function findUp(start: string, name: string): string | undefined {
  let dir = start;
  for (;;) {
    const candidate = path.join(dir, name);
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Version from the root package.json; commit and date from the environment (set by the image build),
 * else from dist/build-info.json (written by `npm run build`), else from git, else "unknown".
 */
export function readBuildInfo(overrides: { commit?: string; buildDate?: string } = {}): BuildInfo {
  let version = '0.0.0';
  const pkgPath = findUp(path.resolve(__dirname, '../../../..'), 'package.json');
  if (pkgPath) version = (JSON.parse(fs.readFileSync(pkgPath, 'utf8')) as { version?: string }).version ?? version;

  let fromFile: Partial<BuildInfo> = {};
  const infoPath = findUp(__dirname, 'build-info.json');
  if (infoPath) {
    try {
      fromFile = JSON.parse(fs.readFileSync(infoPath, 'utf8')) as Partial<BuildInfo>;
    } catch {
      fromFile = {};
    }
  }
  let commit = overrides.commit ?? fromFile.commit;
  if (!commit) {
    try {
      commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: __dirname, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    } catch {
      commit = 'unknown';
    }
  }
  return { version, commit, buildDate: overrides.buildDate ?? fromFile.buildDate ?? 'unknown' };
}
