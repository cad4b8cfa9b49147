import { GraphQLError, parse } from 'graphql'
import type { Plugin } from 'vite'

/**
 * Turns `*.graphql` files into modules whose default export is the parsed DocumentNode.
 *
 * Parsing at build time means a syntax error fails the build with the file and line, and the
 * browser bundle needs no GraphQL parser of its own. Codegen (typed documents) replaces this later.
 */
export function graphqlDocumentPlugin(): Plugin {
  return {
    name: 'streamspace:graphql-document',
    enforce: 'pre',
    transform(source, id) {
      const [file] = id.split('?', 1)
      if (file === undefined || !file.endsWith('.graphql')) return null
      try {
        const document = parse(source, { noLocation: true })
        return { code: `export default ${JSON.stringify(document)};\n`, map: null, moduleType: 'js' }
      } catch (error) {
        if (error instanceof GraphQLError) {
          const at = error.locations?.[0]
          this.error(`${file}${at ? `:${at.line}:${at.column}` : ''}: ${error.message}`)
        }
        throw error
      }
    },
  }
}
