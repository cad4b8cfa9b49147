import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { FIXTURE_DIR } from '../templates/template-fixtures';

/** The real 195-template catalog of the original StreamSpace project (flat `<category>/<app>.yaml`). */
export const STREAMSPACE_TEMPLATES_FIXTURE = FIXTURE_DIR;

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'StreamSpace Tests',
  GIT_AUTHOR_EMAIL: 'tests@streamspace.invalid',
  GIT_COMMITTER_NAME: 'StreamSpace Tests',
  GIT_COMMITTER_EMAIL: 'tests@streamspace.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/** A real git repository in a temp dir, served to the server through a file:// URL. */
export class TestGitRepo {
  readonly dir: string;

  constructor(prefix = 'catalog-repo') {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `streamspace-${prefix}-`));
    this.git('init', '--quiet', '--initial-branch=main');
  }

  get url(): string {
    return `file://${this.dir}`;
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, env: GIT_ENV, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  }

  /** Copies a directory tree into the work tree (skipping .git). */
  copyFrom(source: string): this {
    fs.cpSync(source, this.dir, { recursive: true, filter: (src) => path.basename(src) !== '.git' });
    return this;
  }

  write(rel: string, content: string | Buffer): this {
    const file = path.join(this.dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    return this;
  }

  symlink(target: string, rel: string): this {
    const file = path.join(this.dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.symlinkSync(target, file);
    return this;
  }

  remove(rel: string): this {
    fs.rmSync(path.join(this.dir, rel), { recursive: true, force: true });
    return this;
  }

  read(rel: string): string {
    return fs.readFileSync(path.join(this.dir, rel), 'utf8');
  }

  commit(message = 'update'): string {
    this.git('add', '--all');
    this.git('commit', '--quiet', '--allow-empty', '-m', message);
    return this.git('rev-parse', 'HEAD').trim();
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A design-layout template (templates/<category>/<app>/template.yaml). */
export function designTemplate(name: string, opts: { displayName?: string; description?: string; category?: string; tags?: string[] } = {}): string {
  return [
    'apiVersion: stream.streamspace.io/v1alpha1',
    'kind: Template',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    `  displayName: ${JSON.stringify(opts.displayName ?? name)}`,
    `  description: ${JSON.stringify(opts.description ?? `The ${name} app.`)}`,
    `  category: ${JSON.stringify(opts.category ?? 'Tools')}`,
    `  tags: ${JSON.stringify(opts.tags ?? [name])}`,
    `  baseImage: lscr.io/linuxserver/${name}:latest`,
    '  appType: webapp',
    '  webapp:',
    '    port: 8080',
    '',
  ].join('\n');
}
