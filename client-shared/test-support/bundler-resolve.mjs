// A Node module-resolution hook for the clients' unit tests. Vite picks a package folder's ESM entry (its `module`
// field); Node picks `main`. For @apollo/client 3 that is a CommonJS file whose re-exports Node cannot name, so
// `import { ApolloLink } from '@apollo/client/core'` fails in Node alone. Where Node resolved to a .cjs file and the
// folder's package.json names an ESM `module` entry, this hook takes that entry instead, as the bundle does.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** @type {import('node:module').ResolveHook} */
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context)
  if (!resolved.url.startsWith('file:') || !resolved.url.endsWith('.cjs') || !resolved.url.includes('/node_modules/')) return resolved
  const folder = dirname(fileURLToPath(resolved.url))
  let manifest
  try {
    manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'))
  } catch {
    return resolved
  }
  if (typeof manifest.module !== 'string' || join(folder, manifest.main ?? '') !== fileURLToPath(resolved.url)) return resolved
  return { url: pathToFileURL(join(folder, manifest.module)).href, format: 'module', shortCircuit: true }
}
