import { parseDocument } from 'yaml';
import { normalizeTemplate } from '../templates/template-normalize';
import type { TemplateManifest } from '../templates/template.crd';

/**
 * Which files of a repository are templates, and how one file becomes a catalog entry. Pure: the
 * sync service feeds it paths and bytes read from git.
 *
 * Layouts (paths relative to the repository's `path`):
 * - the design's: `templates/<category>/<app>/template.yaml` with optional `icon.png` (or `icon.svg`)
 *   and `README.md` beside it (also accepted without the leading `templates/`);
 * - the original StreamSpace catalog's: flat `<category>/<app>.yaml`.
 * Anything else (top-level files such as catalog.yaml, scripts, dot-directories) is not a template.
 */

export type PathRole =
  | { role: 'manifest'; layout: 'design' | 'flat'; dir: string; folderCategory: string }
  | { role: 'icon' | 'readme'; dir: string }
  | { role: 'other' };

const MANIFEST_NAMES = new Set(['template.yaml', 'template.yml']);
const ICON_TYPES: Record<string, string> = { 'icon.png': 'image/png', 'icon.svg': 'image/svg+xml' };

/** Splits `repoPath/rel` into rel, or null when the path is outside the templates directory. */
export function relativeToPrefix(fullPath: string, prefix: string): string | null {
  if (!prefix) return fullPath;
  return fullPath.startsWith(prefix + '/') ? fullPath.slice(prefix.length + 1) : null;
}

/** A path a template may come from: no absolute paths, "..", ".git", empty or hidden segments. */
export function isSafeRepoPath(p: string): boolean {
  if (!p || p.startsWith('/') || p.includes('\\') || p.includes('\0')) return false;
  return p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..' && seg.toLowerCase() !== '.git');
}

export function classifyPath(rel: string): PathRole {
  const parts = rel.split('/');
  if (parts.some((p) => p.startsWith('.'))) return { role: 'other' };
  const file = parts[parts.length - 1];
  const designDepth = parts[0] === 'templates' ? 4 : 3;
  if (parts.length === designDepth) {
    const dir = parts.slice(0, -1).join('/');
    if (MANIFEST_NAMES.has(file)) return { role: 'manifest', layout: 'design', dir, folderCategory: parts[parts.length - 3] };
    if (ICON_TYPES[file]) return { role: 'icon', dir };
    if (file === 'README.md') return { role: 'readme', dir };
  }
  if (parts.length === 2 && parts[0] !== 'templates' && /\.ya?ml$/i.test(file)) {
    return { role: 'manifest', layout: 'flat', dir: parts[0], folderCategory: parts[0] };
  }
  return { role: 'other' };
}

export function iconContentType(fileName: string): string | undefined {
  return ICON_TYPES[fileName];
}

export interface ParsedCatalogTemplate {
  name: string;
  displayName: string;
  description: string;
  category: string;
  tags: string[];
  appType: string;
  version: string | null;
  manifest: TemplateManifest;
}

export type ManifestParseResult = { kind: 'template'; template: ParsedCatalogTemplate } | { kind: 'ignored' } | { kind: 'error'; message: string };

/** YAML aliases a manifest may use: plenty for anchors in real files, far too few for a "billion laughs". */
export const MAX_YAML_ALIASES = 50;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One manifest file's bytes to a catalog entry, or the reason it is skipped. Never throws. */
export function parseManifest(bytes: Uint8Array, folderCategory: string): ManifestParseResult {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { kind: 'error', message: 'not UTF-8 text' };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    // parseDocument reports a second document as an error ("Source contains multiple documents").
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
    if (doc.errors.length) return { kind: 'error', message: `invalid YAML: ${firstLine(doc.errors[0].message)}` };
    if (doc.contents === null) return { kind: 'error', message: 'empty YAML document' };
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    return { kind: 'error', message: `invalid YAML: ${firstLine((err as Error).message)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'error', message: 'the manifest must be a YAML mapping' };
  const kind = (value as Record<string, unknown>).kind;
  // Other Kubernetes objects beside templates (e.g. a TemplateCatalog index) are not errors.
  if (typeof kind === 'string' && kind !== 'Template') return { kind: 'ignored' };
  const result = normalizeTemplate(value);
  if (!result.ok) return { kind: 'error', message: result.errors.slice(0, 5).join('; ') + (result.errors.length > 5 ? `; and ${result.errors.length - 5} more` : '') };
  const t = result.template;
  const spec = t.spec;
  const labels = t.metadata.labels ?? {};
  const versionValue = (spec as unknown as Record<string, unknown>).version ?? labels['app.kubernetes.io/version'];
  return {
    kind: 'template',
    template: {
      name: t.metadata.name,
      displayName: spec.displayName.slice(0, 200),
      description: spec.description ?? '',
      category: (spec.category?.trim() || folderCategory).slice(0, 100),
      tags: [...new Set((spec.tags ?? []).map((tag) => tag.trim()).filter(Boolean))],
      appType: spec.appType,
      version: typeof versionValue === 'string' ? versionValue.slice(0, 64) : null,
      manifest: t,
    },
  };
}

function firstLine(message: string): string {
  return message.split('\n')[0].slice(0, 300);
}
