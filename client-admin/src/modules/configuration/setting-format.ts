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
