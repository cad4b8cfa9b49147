/**
 * What a repository may point at. The URL, branch and path reach `git` as arguments, so each is
 * checked here before anything runs: only https, ssh (URL or scp-like) and, when explicitly allowed,
 * file:// URLs; nothing that git could read as an option (`-...`, `--upload-pack=...`) or as a
 * remote helper (`ext::sh -c ...`, `fd::`); no control characters or whitespace; no credentials in
 * the URL (they belong in a Secret, where they are never logged or returned).
 */

export interface GitUrlPolicy {
  allowFile: boolean;
}

export type GitUrlKind = 'https' | 'ssh' | 'file';

export class GitInputError extends Error {
  constructor(
    public readonly field: 'url' | 'branch' | 'path' | 'knownHosts',
    message: string,
  ) {
    super(message);
    this.name = 'GitInputError';
  }
}

const MAX_URL = 2048;
const SCP_LIKE = /^([A-Za-z0-9._-]+)@([A-Za-z0-9.-]+):(?!\/\/)([A-Za-z0-9._~/+-]+)$/;
const HOST = /^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/;

/** Returns the kind of a URL that may be synced, or throws GitInputError saying why not. */
export function checkGitUrl(url: string, policy: GitUrlPolicy): GitUrlKind {
  if (typeof url !== 'string' || url.length === 0) throw new GitInputError('url', 'The repository URL is required');
  if (url.length > MAX_URL) throw new GitInputError('url', `The repository URL is longer than ${MAX_URL} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(url)) throw new GitInputError('url', 'The repository URL must not contain spaces or control characters');
  if (url.startsWith('-')) throw new GitInputError('url', 'The repository URL must not start with "-" (git would read it as an option)');
  // git's "<transport>::<address>" syntax runs a remote helper (ext:: runs a shell command).
  if (/^[A-Za-z0-9+.-]*::/.test(url) || url.includes('::')) throw new GitInputError('url', 'Remote-helper URLs (such as ext::) are not allowed');

  const scp = SCP_LIKE.exec(url);
  if (scp) {
    if (scp[2].startsWith('-') || scp[3].startsWith('-')) throw new GitInputError('url', 'The repository URL must not contain an option-like host or path');
    return 'ssh';
  }

  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new GitInputError('url', 'The repository URL must be https://host/path, ssh://[user@]host/path or user@host:path');
  }
  const scheme = parsed.protocol.replace(/:$/, '').toLowerCase();
  if (scheme === 'file') {
    if (!policy.allowFile) throw new GitInputError('url', 'file:// repository URLs are disabled (STREAMSPACE_GIT_ALLOW_FILE=true enables them for development)');
    if (parsed.host !== '' && parsed.host !== 'localhost') throw new GitInputError('url', 'file:// URLs must name a local path (file:///path)');
    if (!parsed.pathname.startsWith('/') || parsed.pathname.split('/').includes('..')) throw new GitInputError('url', 'file:// URLs must be absolute paths without ".."');
    return 'file';
  }
  if (scheme !== 'https' && scheme !== 'ssh') {
    throw new GitInputError('url', `Repository URLs must use https or ssh${policy.allowFile ? ' (or file)' : ''}; "${scheme}" is not allowed`);
  }
  if (!parsed.hostname || !HOST.test(parsed.hostname) || parsed.hostname.startsWith('-')) throw new GitInputError('url', 'The repository URL has no valid host');
  if (scheme === 'https' && (parsed.username || parsed.password)) {
    throw new GitInputError('url', 'Put credentials in a Secret (auth.secretRef), not in the URL');
  }
  if (scheme === 'ssh' && parsed.password) throw new GitInputError('url', 'Put credentials in a Secret (auth.secretRef), not in the URL');
  if (!parsed.pathname || parsed.pathname === '/') throw new GitInputError('url', 'The repository URL has no repository path');
  return scheme;
}

/** Branch names as git accepts them (git check-ref-format --branch), minus anything option-like. */
export function checkBranch(branch: string): string {
  const ok =
    typeof branch === 'string' &&
    branch.length > 0 &&
    branch.length <= 255 &&
    /^[A-Za-z0-9._/-]+$/.test(branch) &&
    !branch.startsWith('-') &&
    !branch.startsWith('/') &&
    !branch.endsWith('/') &&
    !branch.endsWith('.') &&
    !branch.endsWith('.lock') &&
    !branch.includes('..') &&
    !branch.includes('//') &&
    !branch.split('/').some((part) => part.startsWith('.'));
  if (!ok) throw new GitInputError('branch', `"${branch}" is not a valid branch name`);
  return branch;
}

/** The templates directory inside the repository: relative, normalised, '' for the root. */
export function normalizeRepoPath(value: string | undefined | null): string {
  const raw = (value ?? '').trim();
  if (raw.length > 1024) throw new GitInputError('path', 'The path is longer than 1024 characters');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f\\]/.test(raw)) throw new GitInputError('path', 'The path must not contain control characters or backslashes');
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new GitInputError('path', 'The path must stay inside the repository (no "..")');
  if (parts.some((p) => p === '.git')) throw new GitInputError('path', 'The path must not point into .git');
  return parts.join('/');
}

/** Removes anything credential-like from a message before it is stored, logged or returned. */
export function redactSecrets(message: string, secrets: readonly string[] = []): string {
  let out = message.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
  out = out.replace(/(authorization:\s*)(basic|bearer)\s+\S+/gi, '$1$2 ***');
  for (const secret of secrets) if (secret && secret.length >= 4) out = out.split(secret).join('***');
  return out;
}

/** Largest known_hosts text accepted (a repository field or the platform-wide setting). */
export const MAX_KNOWN_HOSTS = 64 * 1024;
const KEY_TYPES = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)$/;

/**
 * Checks known_hosts lines (what `ssh-keyscan -t ed25519 HOST` prints, checked against the host's published
 * fingerprint): each non-empty, non-comment line is `[@cert-authority] hosts keytype base64-key [comment]`, with a
 * known key type and a key that decodes and names that type. Returns the lines normalised ('' when there are none).
 */
export function checkKnownHosts(text: string | null | undefined): string {
  const raw = text ?? '';
  if (raw.length > MAX_KNOWN_HOSTS) throw new GitInputError('knownHosts', `known_hosts is longer than ${MAX_KNOWN_HOSTS} characters`);
  const lines: string[] = [];
  raw.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) return;
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x08\x0b-\x1f\x7f]/.test(trimmed)) throw new GitInputError('knownHosts', `known_hosts line ${i + 1} contains control characters`);
    const fields = trimmed.split(/\s+/);
    if (fields[0] === '@cert-authority') fields.shift();
    else if (fields[0]?.startsWith('@')) throw new GitInputError('knownHosts', `known_hosts line ${i + 1}: only the @cert-authority marker is accepted`);
    const [hosts, type, key] = fields;
    if (!hosts || !type || !key) throw new GitInputError('knownHosts', `known_hosts line ${i + 1} must be "host keytype key" (as printed by ssh-keyscan)`);
    if (!KEY_TYPES.test(type)) throw new GitInputError('knownHosts', `known_hosts line ${i + 1}: unknown key type "${type.slice(0, 40)}"`);
    const blob = /^[A-Za-z0-9+/]+={0,2}$/.test(key) ? Buffer.from(key, 'base64') : Buffer.alloc(0);
    const nameLength = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
    if (nameLength <= 0 || blob.length < 4 + nameLength || blob.toString('latin1', 4, 4 + nameLength) !== type) {
      throw new GitInputError('knownHosts', `known_hosts line ${i + 1}: the key is not a valid ${type} public key`);
    }
    lines.push(trimmed);
  });
  return lines.join('\n');
}
