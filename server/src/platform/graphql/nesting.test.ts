import { expect } from 'chai';
import { parse } from 'graphql';
import { documentNesting, MAX_DOCUMENT_NESTING, nestingError } from './nesting';

describe('document nesting (measured before parsing)', () => {
  it('counts braces, brackets and parentheses of the deepest path', () => {
    expect(documentNesting('{ a }')).to.equal(1);
    expect(documentNesting('query Q($x: [[Int]]) { a(b: { c: [1, [2]] }) { d } }')).to.equal(5);
    expect(documentNesting('{ a } { b { c } }')).to.equal(2);
  });

  it('ignores brackets in strings, block strings (with escaped quotes) and comments', () => {
    expect(documentNesting('{ a(s: "{{{[[[(((\\"{{") }')).to.equal(2);
    expect(documentNesting('{ a(s: """ {{{ \\""" {{{ """) }')).to.equal(2);
    expect(documentNesting('# {{{{{{\n{ a }')).to.equal(1);
    // Every text measured here is one graphql-js parses, so the scanner and the parser agree on where strings end.
    for (const text of ['{ a(s: "{{{[[[(((\\"{{") }', '{ a(s: """ {{{ \\""" {{{ """) }', '# {{{{{{\n{ a }']) expect(() => parse(text)).not.to.throw();
  });

  it('refuses a document nested deeper than the limit with a parse error, however it nests', () => {
    const fragments = `query { ${'... on Query { '.repeat(1900)}version { version }${' }'.repeat(1900)} }`;
    const lists = `query { a(x: ${'['.repeat(5000)}${']'.repeat(5000)}) }`;
    for (const text of [fragments, lists]) {
      const error = nestingError(text);
      expect(error?.extensions.code).to.equal('GRAPHQL_PARSE_FAILED');
      expect(error?.message).to.equal(`Syntax Error: Document is nested more than ${MAX_DOCUMENT_NESTING} levels deep (braces, brackets and parentheses). Parsing aborted.`);
    }
    expect(nestingError(`{ ${'... on Query { '.repeat(MAX_DOCUMENT_NESTING - 2)}a${' }'.repeat(MAX_DOCUMENT_NESTING - 2)} }`)).to.equal(undefined);
  });

  it('stops counting once past the limit', () => {
    expect(documentNesting('{'.repeat(1_000_000), 10)).to.equal(11);
  });
});
