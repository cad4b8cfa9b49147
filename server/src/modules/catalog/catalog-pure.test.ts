import 'reflect-metadata';
import { expect } from 'chai';
import { classifyPath, isSafeRepoPath, parseManifest } from './catalog-layout';
import { diffObjects, searchTokens } from './catalog.service';
import { GitInputError, checkBranch, checkGitUrl, normalizeRepoPath, redactSecrets } from './git-url';
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
});
