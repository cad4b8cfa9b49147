import { LAST_APPLIED, type KubeObject } from './cluster-manifest';

/**
 * What the audit log keeps of the admin console's commands and manifests. Pure, unit-tested in
 * cluster-audit.test.ts; the rules are written out in docs/security.md ("Audit of the admin console").
 */

export const AUDIT_REDACTED = '[REDACTED]';
/** A redacted manifest larger than this (as JSON) is not stored; its size and a note are. */
export const MAX_AUDITED_MANIFEST_BYTES = 256 * 1024;

/** A flag or header name that carries a secret as its value. */
const SECRET_NAME = /(pass(word|wd|phrase)?|pwd|token|secret|key|credential|auth|cookie|session|signature|private)/i;
/** Short flags whose next argument is a password in common tools (mysql/mongo `-p`, redis-cli `-a`); mysql also takes `-pVALUE`. */
const SECRET_SHORT_FLAGS = new Set(['-p', '-a']);

/**
 * One argument with its secrets cut out, word by word (a `sh -c "..."` script is redacted like a command line):
 * 1. `NAME=VALUE` (an env assignment or `--flag=value`): the value is redacted, whatever the name.
 * 2. The word after a flag whose name looks secret (password, token, secret, key, auth, credential, cookie, ...)
 *    or after `-p`/`-a` is redacted; `-pVALUE` keeps only `-p`.
 * 3. `scheme://user:password@host`: the password is redacted.
 * 4. `Authorization: Bearer x`-style headers: everything after the secret-named `Name:` is redacted.
 * Returns the redacted text and whether the next argument is a secret value (the word ended with a secret flag).
 */
function redactWords(text: string, pendingSecret: boolean): { text: string; nextIsSecret: boolean } {
  const parts = text.split(/(\s+)/);
  let secretNext = pendingSecret;
  let restSecret = false;
  const out = parts.map((part) => {
    if (!part || /^\s+$/.test(part)) return part;
    if (restSecret) return AUDIT_REDACTED;
    if (secretNext) {
      secretNext = false;
      // "Bearer" is a scheme, the secret follows it.
      if (/^(bearer|basic|token)$/i.test(part)) {
        secretNext = true;
        return part;
      }
      return AUDIT_REDACTED;
    }
    const word = part.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s]*@/gi, `$1:${AUDIT_REDACTED}@`);
    const eq = word.indexOf('=');
    if (eq > 0) return `${word.slice(0, eq)}=${AUDIT_REDACTED}`;
    if (/^[A-Za-z][\w-]*:$/.test(word) && SECRET_NAME.test(word)) {
      restSecret = true;
      return word;
    }
    if (word.startsWith('-')) {
      const flag = word.replace(/^-+/, '');
      if (SECRET_SHORT_FLAGS.has(word) || (word.startsWith('--') && SECRET_NAME.test(flag)) || (/^-[A-Za-z]{2,}$/.test(word) && SECRET_NAME.test(flag))) {
        secretNext = true;
        return word;
      }
      const short = /^(-p)(.+)$/.exec(word);
      if (short && !word.startsWith('--')) return `${short[1]}${AUDIT_REDACTED}`;
    }
    return word;
  });
  return { text: out.join(''), nextIsSecret: secretNext };
}

/**
 * The command of an exec or shell as the audit log stores it: the program (argv[0]) as given, every argument
 * redacted by the rules of redactWords, and the argument count. Never the raw values.
 */
export function auditedCommand(command: readonly string[]): { program: string; argCount: number; args: string[] } {
  const [program = '', ...rest] = command;
  let pending = false;
  const args = rest.map((arg) => {
    const r = redactWords(arg, pending);
    pending = r.nextIsSecret;
    return r.text;
  });
  return { program, argCount: rest.length, args };
}

function redactEnv(value: unknown): void {
  if (!value || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) redactEnv(item);
    return;
  }
  const obj = value as Record<string, unknown>;
  for (const [key, child] of Object.entries(obj)) {
    // Container env: `- name: DB_PASSWORD  value: ...` (the name says it is a secret, the key is just "value").
    if (key === 'env' && Array.isArray(child)) {
      for (const entry of child as Record<string, unknown>[]) {
        if (entry && typeof entry === 'object' && typeof entry.name === 'string' && SECRET_NAME.test(entry.name) && 'value' in entry) entry.value = AUDIT_REDACTED;
      }
    }
    // Container args/command: the same rules as an exec.
    if ((key === 'args' || key === 'command') && Array.isArray(child) && child.every((c) => typeof c === 'string')) {
      const r = auditedCommand(['', ...(child as string[])]);
      obj[key] = r.args;
      continue;
    }
    redactEnv(child);
  }
}

/**
 * An applied manifest as the audit log stores it: a Secret's `data` and `stringData` values (keys kept) and its
 * last-applied annotation redacted; in every kind, container `env` values whose name looks secret and container
 * `command`/`args` redacted like an exec. (AuditService then redacts any field whose own name looks secret.)
 * A redacted manifest larger than MAX_AUDITED_MANIFEST_BYTES is replaced by a note with its size.
 */
export function auditedManifest(kind: string, object: KubeObject): Record<string, unknown> {
  const copy = structuredClone(object) as KubeObject;
  if (kind === 'Secret') {
    for (const field of ['data', 'stringData']) {
      const values = copy[field];
      if (values && typeof values === 'object' && !Array.isArray(values)) {
        for (const key of Object.keys(values)) (values as Record<string, unknown>)[key] = AUDIT_REDACTED;
      } else if (values !== undefined) {
        copy[field] = AUDIT_REDACTED;
      }
    }
  }
  const annotations = copy.metadata?.annotations;
  if (annotations && typeof annotations === 'object' && LAST_APPLIED in annotations) annotations[LAST_APPLIED] = AUDIT_REDACTED;
  redactEnv(copy);
  const size = Buffer.byteLength(JSON.stringify(copy), 'utf8');
  if (size > MAX_AUDITED_MANIFEST_BYTES) return { omitted: `the redacted manifest is ${size} bytes, more than ${MAX_AUDITED_MANIFEST_BYTES}` };
  return copy as Record<string, unknown>;
}
