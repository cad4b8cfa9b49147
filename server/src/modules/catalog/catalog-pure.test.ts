import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { classifyPath, isSafeRepoPath, parseManifest } from './catalog-layout';
import { diffObjects, searchTokens } from './catalog.service';
import { GitCache, NoPinnedHostKeyError, sshCommand, sshHost } from './git-cache';
import { GitInputError, checkBranch, checkGitUrl, checkKnownHosts, normalizeRepoPath, redactSecrets } from './git-url';
import { CredentialsError, pinnedKnownHosts } from './repository-credentials';
import { designTemplate } from '../../../test/catalog/git-fixture';

describe('catalog pure rules', () => {
  describe('repository URLs', () => {
    const allowed = { allowFile: false };
    it('accepts https, ssh and scp-like URLs', () => {
      expect(checkGitUrl('https://github.com/streamspace/templates.git', allowed)).to.equal('https');
      expect(checkGitUrl('ssh://git@github.com:22/streamspace/templates.git', allowed)).to.equal('ssh');
      expect(checkGitUrl('git@github.com:streamspace/templates.git', allowed)).to.equal('ssh');
    });
    it('refuses option injection, remote helpers, other schemes and credentials in the URL', () => {
      for (const url of [
        '--upload-pack=touch /tmp/pwned',
        '-u touch',
        'ext::sh -c touch% /tmp/pwned',
        'fd::17',
        'https://host/repo::x',
        'http://example.com/r.git',
        'git://example.com/r.git',
        'ftp://example.com/r.git',
        'https://user:secret@example.com/r.git',
        'https://example.com/r.git\n--upload-pack=x',
        'git@-oProxyCommand=x:repo',
        '',
      ]) {
        expect(() => checkGitUrl(url, allowed), url).to.throw(GitInputError);
      }
    });
    it('accepts file:// only when allowed', () => {
      expect(() => checkGitUrl('file:///srv/templates', allowed)).to.throw(/STREAMSPACE_GIT_ALLOW_FILE/);
      expect(checkGitUrl('file:///srv/templates', { allowFile: true })).to.equal('file');
      expect(() => checkGitUrl('file://other-host/srv/templates', { allowFile: true })).to.throw(GitInputError);
    });
    it('checks branches and paths', () => {
      expect(checkBranch('release/1.2')).to.equal('release/1.2');
      for (const b of ['--upload-pack=x', '-x', 'a..b', 'a b', 'a/.hidden', 'x.lock', '']) expect(() => checkBranch(b), b).to.throw(GitInputError);
      expect(normalizeRepoPath('/catalog/./templates/')).to.equal('catalog/templates');
      expect(normalizeRepoPath('')).to.equal('');
      for (const p of ['../x', 'a/../../b', '.git/hooks']) expect(() => normalizeRepoPath(p), p).to.throw(GitInputError);
    });
    it('redacts credentials from messages', () => {
      expect(redactSecrets('fatal: unable to access https://bob:pw@host/r.git/')).to.equal('fatal: unable to access https://***@host/r.git/');
      expect(redactSecrets('header Authorization: Basic eDp5 sent')).to.equal('header Authorization: Basic *** sent');
      expect(redactSecrets('token abcd1234 leaked', ['abcd1234'])).to.equal('token *** leaked');
    });
  });

  describe('layouts', () => {
    it('recognises the design layout and the original flat layout', () => {
      expect(classifyPath('templates/office/writer/template.yaml')).to.deep.include({ role: 'manifest', layout: 'design', dir: 'templates/office/writer', folderCategory: 'office' });
      expect(classifyPath('templates/office/writer/icon.png')).to.deep.equal({ role: 'icon', dir: 'templates/office/writer' });
      expect(classifyPath('templates/office/writer/README.md')).to.deep.equal({ role: 'readme', dir: 'templates/office/writer' });
      expect(classifyPath('office/writer/template.yml')).to.deep.include({ role: 'manifest', layout: 'design' });
      expect(classifyPath('web-browsers/firefox.yaml')).to.deep.include({ role: 'manifest', layout: 'flat', folderCategory: 'web-browsers' });
      for (const other of ['catalog.yaml', 'scripts/generate.py', '.github/workflows/ci.yaml', 'templates/x.yaml', 'a/b/c/d/e.yaml', 'templates/office/writer/notes.txt']) {
        expect(classifyPath(other).role, other).to.equal('other');
      }
    });
    it('rejects unsafe paths', () => {
      for (const p of ['/etc/passwd', '../x.yaml', 'a/../b.yaml', '.git/config', 'a//b.yaml', 'a\\\\b.yaml']) expect(isSafeRepoPath(p), p).to.equal(false);
      expect(isSafeRepoPath('templates/a/b/template.yaml')).to.equal(true);
    });
  });

  describe('manifest parsing', () => {
    const bytes = (s: string) => Buffer.from(s, 'utf8');
    it('turns a template file into a catalog entry', () => {
      const r = parseManifest(bytes(designTemplate('writer', { displayName: 'Writer', category: 'Office', tags: ['docs', 'docs', ' office '] })), 'office');
      expect(r.kind).to.equal('template');
      if (r.kind !== 'template') return;
      expect(r.template).to.deep.include({ name: 'writer', displayName: 'Writer', category: 'Office', appType: 'webapp' });
      expect(r.template.tags).to.deep.equal(['docs', 'office']);
    });
    it('falls back to the folder for the category and ignores other kinds', () => {
      const r = parseManifest(bytes(designTemplate('x').replace(/ {2}category: .*\n/, '')), 'tools');
      expect(r.kind === 'template' && r.template.category).to.equal('tools');
      expect(parseManifest(bytes('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n'), 'x').kind).to.equal('ignored');
    });
    it('reports every kind of bad file without throwing', () => {
      const cases: [string | Buffer, RegExp][] = [
        [Buffer.from([0xc3, 0x28]), /UTF-8/],
        ['a: [unclosed', /invalid YAML/],
        ['a: 1\n---\nb: 2\n', /multiple documents|invalid YAML/],
        ['a: 1\na: 2\n', /invalid YAML/],
        ['- just\n- a list\n', /mapping/],
        ['', /empty/],
        ['apiVersion: stream.streamspace.io/v1alpha1\nkind: Template\nmetadata: {name: x}\nspec: {}\n', /displayName|baseImage/],
      ];
      for (const [input, message] of cases) {
        const r = parseManifest(typeof input === 'string' ? bytes(input) : input, 'x');
        expect(r.kind, String(input)).to.equal('error');
        expect(r.kind === 'error' && r.message, String(input)).to.match(message);
      }
      const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
      for (let i = 1; i < 12; i++) lines.push(`l${i}: &l${i} [${Array(10).fill(i === 1 ? '*a' : `*l${i - 1}`).join(',')}]`);
      const bomb = parseManifest(bytes(lines.join('\n')), 'x');
      expect(bomb.kind).to.equal('error');
    });
  });

  describe('search and diff helpers', () => {
    it('keeps only words for the prefix query', () => {
      expect(searchTokens("Fire-fox & 'drop table'; :*")).to.deep.equal(['fire', 'fox', 'drop', 'table']);
      expect(searchTokens('!!!')).to.deep.equal([]);
    });
    it('lists field-level changes', () => {
      expect(diffObjects({ spec: { a: 1, b: [1] } }, { spec: { a: 2, b: [1], c: 'x' } })).to.deep.equal(['spec.a: 1 -> 2', 'spec.c: (none) -> "x"']);
    });
  });

  describe('ssh host keys', () => {
    // An ed25519 public key blob: string "ssh-ed25519" + 32 key bytes.
    const blob = (type: string, len = 32) => Buffer.concat([Buffer.from([0, 0, 0, type.length]), Buffer.from(type), Buffer.from([0, 0, 0, len]), Buffer.alloc(len, 7)]).toString('base64');
    const line = `github.com ssh-ed25519 ${blob('ssh-ed25519')}`;

    it('accepts known_hosts lines and refuses what is not a host key', () => {
      expect(checkKnownHosts(`# pinned\n\n${line}\n[git.example.test]:2222 ssh-ed25519 ${blob('ssh-ed25519')} comment\n`)).to.equal(`${line}\n[git.example.test]:2222 ssh-ed25519 ${blob('ssh-ed25519')} comment`);
      expect(checkKnownHosts(`@cert-authority *.example.test ssh-ed25519 ${blob('ssh-ed25519')}`)).to.match(/^@cert-authority/);
      expect(checkKnownHosts(null)).to.equal('');
      const bad = (text: string) => {
        try {
          checkKnownHosts(text);
        } catch (err) {
          expect(err).to.be.instanceOf(GitInputError);
          return (err as Error).message;
        }
        throw new Error('expected a refusal');
      };
      expect(bad('github.com')).to.match(/line 1 must be "host keytype key"/);
      expect(bad('github.com ssh-dss AAAA')).to.match(/unknown key type "ssh-dss"/);
      expect(bad(`github.com ssh-rsa ${blob('ssh-ed25519')}`)).to.match(/not a valid ssh-rsa public key/);
      expect(bad(`@revoked github.com ssh-ed25519 ${blob('ssh-ed25519')}`)).to.match(/only the @cert-authority marker/);
      expect(bad('x'.repeat(70_000))).to.match(/longer than/);
    });

    it('builds an ssh command that checks host keys strictly against the pinned file only', () => {
      const cmd = sshCommand('/tmp/kh', '/tmp/id');
      for (const option of ['StrictHostKeyChecking=yes', "UserKnownHostsFile='/tmp/kh'", 'GlobalKnownHostsFile=/dev/null', 'UpdateHostKeys=no', 'BatchMode=yes', 'IdentitiesOnly=yes', 'IdentityAgent=none']) {
        expect(cmd).to.include(`-o ${option}`);
      }
      expect(cmd).to.include("-i '/tmp/id'");
      expect(cmd).not.to.match(/accept-new|StrictHostKeyChecking=no/);
      expect(sshCommand('/tmp/kh', null)).to.include('-o IdentityFile=none');
      expect(sshHost('ssh://git@host.test:2222/r.git')).to.equal('[host.test]:2222');
      expect(sshHost('ssh://git@host.test/r.git')).to.equal('host.test');
      expect(sshHost('git@host.test:org/r.git')).to.equal('host.test');
    });

    it('combines the repository\'s, the Secret\'s and the platform\'s pins, and refuses an ssh fetch with none', async () => {
      const secretLine = `secret.test ssh-ed25519 ${blob('ssh-ed25519')}`;
      expect(pinnedKnownHosts({ knownHosts: line }, { type: 'ssh', privateKey: 'k', knownHosts: secretLine }, 'p.test x')).to.equal(`${line}\n${secretLine}\np.test x`);
      expect(pinnedKnownHosts({ knownHosts: null }, { type: 'none' }, '')).to.equal('');
      expect(() => pinnedKnownHosts({ knownHosts: null }, { type: 'ssh', privateKey: 'k', knownHosts: 'junk' }, '')).to.throw(CredentialsError, /known_hosts key of the auth Secret is not valid/);
      const dir = path.join(os.tmpdir(), `streamspace-unpinned-${process.pid}`);
      const cache = new GitCache(dir, { timeoutMs: 1000, allowFile: false });
      // Refused before anything runs (the cache directory is never created).
      let error: unknown;
      await cache.fetch('ssh://git@host.test/r.git', 'main', { type: 'none' }, '').catch((err: unknown) => (error = err));
      expect(error).to.be.instanceOf(NoPinnedHostKeyError);
      expect(fs.existsSync(dir)).to.equal(false);
      expect((error as Error).message).to.match(/ssh repository host\.test has no pinned host key/);
    });
  });
});
