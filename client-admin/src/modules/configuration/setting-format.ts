import type { SettingValueKind } from '../../generated/graphql'

const UNITS: [string, number][] = [
  ['Ti', 1024 ** 4],
  ['Gi', 1024 ** 3],
  ['Mi', 1024 ** 2],
  ['Ki', 1024],
]

/** Bytes as the shortest exact Kubernetes quantity (16Gi, 512Mi), else the number of bytes. */
export function formatBytes(bytes: number): string {
  if (bytes === 0) return '0'
  for (const [unit, size] of UNITS) if (bytes % size === 0) return `${bytes / size}${unit}`
  return String(bytes)
}

/** A setting's value for the table and the edit field. */
export function formatSettingValue(kind: SettingValueKind, value: unknown): string {
  if (kind === 'MEMORY' && typeof value === 'number') return formatBytes(value)
  if (value === null || value === undefined) return ''
  return String(value)
}

/** What the edit field's text is sent as: whole numbers as numbers; quantities and texts as strings (the server checks them). */
export function settingInput(kind: SettingValueKind, text: string): unknown {
  if (kind === 'TEXT') return text
  const trimmed = text.trim()
  if (kind === 'INTEGER' && /^[0-9]+$/.test(trimmed)) return Number(trimmed)
  return trimmed
}

/** A field's value in the form: a switch's boolean, else the text of a text field or select. */
export type SettingDraft = string | boolean

interface FormSetting {
  key: string
  kind: SettingValueKind
  value: unknown
}

/** What a setting shows in the form before any edit. */
export function initialDraft(setting: FormSetting): SettingDraft {
  if (setting.kind === 'BOOLEAN') return setting.value === true
  return formatSettingValue(setting.kind, setting.value)
}

/** A change to send: a new value, or a reset to the default. */
export interface SettingChange {
  key: string
  value?: unknown
  reset?: boolean
}

/**
 * The changes the form holds: every field whose draft differs from the effective value (sent as the server reads
 * it), and every setting marked to go back to its default. The server checks every value; nothing is judged here.
 */
export function formChanges(settings: readonly FormSetting[], drafts: Readonly<Record<string, SettingDraft>>, resets: ReadonlySet<string>): SettingChange[] {
  const out: SettingChange[] = []
  for (const s of settings) {
    if (resets.has(s.key)) {
      out.push({ key: s.key, reset: true })
      continue
    }
    const draft = drafts[s.key]
    if (draft === undefined || draft === initialDraft(s)) continue
    out.push({ key: s.key, value: typeof draft === 'boolean' ? draft : settingInput(s.kind, draft) })
  }
  return out
}

/** A value in a diff or history entry. */
export function formatDiffValue(value: unknown): string {
  if (value === '' || value === null || value === undefined) return '(empty)'
  if (typeof value === 'boolean') return value ? 'on' : 'off'
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

/** Where a value comes from, in words. */
export function sourceLabel(source: string): string {
  if (source === 'DATABASE') return 'saved here'
  if (source === 'ENVIRONMENT') return 'from environment'
  return 'built-in default'
}
