#!/usr/bin/env node
// Validates every GraphQL operation of the clients against the committed schema.graphql:
// - each file parses, and every operation in it has a unique PascalCase name (per client);
// - a file's suffix says what it holds (*.query / *.mutation / *.subscription / *.fragment.graphql);
// - all documents of one client, taken together, pass graphql-js validation (unknown fields,
//   wrong argument types, undefined or unused fragments, duplicate names).
// Usage: node scripts/check-operations.mjs [clientDir ...] (default: client-portal and client-admin); each client
// runs it on itself from its check:operations script.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildSchema, Kind, parse, validate } from 'graphql'

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = resolve(here, '..')
const schemaPath = join(repoRoot, 'schema.graphql')
const clients = process.argv.slice(2).length
  ? process.argv.slice(2).map((dir) => resolve(dir))
  : [join(repoRoot, 'client-portal'), join(repoRoot, 'client-admin')]

const PASCAL_CASE = /^[A-Z][A-Za-z0-9]*$/
const SUFFIX_KIND = { query: 'query', mutation: 'mutation', subscription: 'subscription', fragment: 'fragment' }

function graphqlFiles(dir) {
  const out = []
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist' || entry === 'generated') continue
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) out.push(...graphqlFiles(path))
    else if (entry.endsWith('.graphql')) out.push(path)
  }
  return out.sort()
}

const schema = buildSchema(readFileSync(schemaPath, 'utf8'))
const problems = []
let operationCount = 0

for (const client of clients) {
  const srcDir = join(client, 'src')
  let files
  try {
    files = graphqlFiles(srcDir)
  } catch {
    continue // a client without sources yet
  }
  const definitions = []
  const origin = new Map()
  for (const file of files) {
    const rel = relative(repoRoot, file)
    let document
    try {
      document = parse(readFileSync(file, 'utf8'))
    } catch (error) {
      problems.push(`${rel}: ${error.message}`)
      continue
    }
    const suffix = /\.(query|mutation|subscription|fragment)\.graphql$/.exec(file)?.[1]
    if (!suffix) problems.push(`${rel}: name the file *.query|mutation|subscription|fragment.graphql`)
    for (const definition of document.definitions) {
      const kind = definition.kind === Kind.FRAGMENT_DEFINITION ? 'fragment' : definition.operation
      const name = definition.name?.value
      if (!name) problems.push(`${rel}: every ${kind} needs a name`)
      else if (!PASCAL_CASE.test(name)) problems.push(`${rel}: "${name}" is not PascalCase`)
      if (suffix && SUFFIX_KIND[suffix] !== kind) problems.push(`${rel}: a ${kind} "${name}" in a *.${suffix}.graphql file`)
      if (name) origin.set(`${kind}:${name}`, rel)
      if (kind !== 'fragment') operationCount += 1
      definitions.push(definition)
    }
  }
  if (!definitions.length) continue
  const combined = { kind: Kind.DOCUMENT, definitions }
  for (const error of validate(schema, combined)) {
    const where = error.nodes?.map((node) => {
      const owner = definitions.find((d) => d.loc && node.loc && d.loc.source === node.loc.source)
      const name = owner?.name?.value
      const kind = owner?.kind === Kind.FRAGMENT_DEFINITION ? 'fragment' : owner?.operation
      return origin.get(`${kind}:${name}`) ?? relative(repoRoot, client)
    })
    problems.push(`${[...new Set(where ?? [relative(repoRoot, client)])].join(', ')}: ${error.message}`)
  }
}

if (problems.length) {
  console.error(`check:operations: ${problems.length} problem(s) against ${relative(repoRoot, schemaPath)}:`)
  for (const problem of problems) console.error(`  - ${problem}`)
  process.exit(1)
}
console.log(`check:operations: ${operationCount} operations in ${clients.map((c) => relative(repoRoot, c)).join(', ')} are valid against ${relative(repoRoot, schemaPath)}`)
