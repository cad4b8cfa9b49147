/** The fields the template form edits; everything else in the manifest (env, resources, security, ...) is kept as it is. */
export interface TemplateForm {
  name: string
  displayName: string
  description: string
  category: string
  icon: string
  tags: string
  baseImage: string
  appType: 'webapp' | 'desktop' | 'hybrid'
  webappPort: number | null
  vncPort: number | null
}

type Manifest = { apiVersion?: string; kind?: string; metadata?: Record<string, unknown>; spec?: Record<string, unknown> } & Record<string, unknown>

export const NEW_MANIFEST: Manifest = {
  apiVersion: 'stream.streamspace.io/v1alpha1',
  kind: 'Template',
  metadata: { name: 'example-app' },
  spec: { displayName: 'Example app', category: 'Other', baseImage: 'nginx:1.27', appType: 'webapp', webapp: { port: 80 } },
}

/** A manifest for an existing template (JSON is YAML, so the text applies as it is). */
export function manifestOf(name: string, spec: Record<string, unknown>): Manifest {
  return { apiVersion: 'stream.streamspace.io/v1alpha1', kind: 'Template', metadata: { name }, spec }
}

export function toText(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`
}

/** The manifest the YAML text holds when it is JSON (as the form writes it), else null: then only the YAML view edits. */
export function parseText(text: string): Manifest | null {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Manifest) : null
  } catch {
    return null
  }
}

const port = (v: unknown): number | null => (typeof v === 'object' && v !== null && typeof (v as { port?: unknown }).port === 'number' ? (v as { port: number }).port : null)

export function formOf(manifest: Manifest): TemplateForm {
  const s = manifest.spec ?? {}
  const str = (v: unknown) => (typeof v === 'string' ? v : '')
  const appType = s.appType === 'desktop' || s.appType === 'hybrid' ? s.appType : 'webapp'
  return {
    name: str(manifest.metadata?.name),
    displayName: str(s.displayName),
    description: str(s.description),
    category: str(s.category),
    icon: str(s.icon),
    tags: Array.isArray(s.tags) ? s.tags.join(', ') : '',
    baseImage: str(s.baseImage),
    appType,
    webappPort: port(s.webapp),
    vncPort: port(s.vnc),
  }
}

/** The manifest with the form's fields written in; empty optional fields are left out. */
export function applyForm(manifest: Manifest, form: TemplateForm): Manifest {
  const spec: Record<string, unknown> = { ...(manifest.spec ?? {}) }
  const set = (key: string, value: unknown) => {
    if (value === '' || value === null || value === undefined) delete spec[key]
    else spec[key] = value
  }
  set('displayName', form.displayName)
  set('description', form.description)
  set('category', form.category)
  set('icon', form.icon)
  const tags = form.tags.split(',').map((t) => t.trim()).filter(Boolean)
  set('tags', tags.length ? tags : null)
  set('baseImage', form.baseImage)
  set('appType', form.appType)
  const web = form.appType !== 'desktop' && form.webappPort ? { ...((spec.webapp as object) ?? {}), port: Number(form.webappPort) } : null
  set('webapp', web)
  const vnc = form.appType !== 'webapp' && form.vncPort ? { ...((spec.vnc as object) ?? {}), enabled: true, port: Number(form.vncPort) } : null
  set('vnc', vnc)
  return { ...manifest, metadata: { ...(manifest.metadata ?? {}), name: form.name }, spec }
}
