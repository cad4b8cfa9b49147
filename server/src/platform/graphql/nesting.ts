import { GraphQLError } from 'graphql';

/**
 * graphql-js parses recursively: every `{`, `[` or `(` level of a document costs a few stack frames, and inline
 * fragments (`... on Query {`) nest without adding query depth. A document of a couple of thousand such levels fits
 * within the token limit yet can overflow the stack in parse(), validate() or the complexity check, depending on how
 * deep the caller already is. So the text's bracket nesting is measured before anything parses it.
 */
export const MAX_DOCUMENT_NESTING = 100;

/**
 * The deepest bracket nesting of a GraphQL document text (`{`, `[` and `(`, outside strings and comments); it stops
 * counting once `stopAbove` is exceeded. Malformed text is measured as far as it goes (the parser reports it).
 */
export function documentNesting(text: string, stopAbove = MAX_DOCUMENT_NESTING): number {
  let depth = 0;
  let deepest = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x23 /* # */) {
      while (i + 1 < length && text[i + 1] !== '\n' && text[i + 1] !== '\r') i++;
    } else if (c === 0x22 /* " */) {
      if (text.startsWith('"""', i)) {
        let j = i + 3;
        while (j < length && !text.startsWith('"""', j)) j += text.startsWith('\\"""', j) ? 4 : 1;
        i = j + 2;
      } else {
        let j = i + 1;
        while (j < length && text[j] !== '"' && text[j] !== '\n' && text[j] !== '\r') j += text[j] === '\\' ? 2 : 1;
        i = j;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */ || c === 0x28 /* ( */) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */ || c === 0x29 /* ) */) {
      if (depth > 0) depth--;
    }
  }
  return deepest;
}

/** The parse error for a document nested deeper than `max` levels, or undefined. */
export function nestingError(text: string, max = MAX_DOCUMENT_NESTING): GraphQLError | undefined {
  if (documentNesting(text, max) <= max) return undefined;
  return new GraphQLError(`Syntax Error: Document is nested more than ${max} levels deep (braces, brackets and parentheses). Parsing aborted.`, {
    extensions: { code: 'GRAPHQL_PARSE_FAILED', details: { maxNesting: max } },
  });
}
