import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'

/** Everything a run leaves for debugging (screenshots, server logs) lives here; git ignores it. */
export const ARTIFACTS_ROOT = resolve(__dirname, '..', 'artifacts')

/** A file-system friendly name for a test or step, e.g. "GraphQL IDE shows the docs" -> "graphql-ide-shows-the-docs". */
export function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 100) || 'unnamed'
  )
}

/** `e2e/artifacts/<test>/`, created on demand. */
export function artifactDir(testName: string): string {
  const dir = join(ARTIFACTS_ROOT, slug(testName))
  mkdirSync(dir, { recursive: true })
  return dir
}
