import { GraphQLError, Kind, parse, SingleFieldSubscriptionsRule, validate, type DocumentNode, type GraphQLSchema, type ParseOptions, type ValidationRule } from 'graphql';
import { nestingError } from './nesting';

/**
 * graphql-js's validate(), with the one way it throws instead of reporting turned into an error: the
 * SingleFieldSubscriptionsRule evaluates `@skip`/`@include` arguments of a subscription's root fields before the
 * rules that check them have run, and throws a GraphQLError for `@skip(if: "x")` or `@include` without `if`.
 * That is a refusal of the document, not a server fault.
 */
export function validateDocument(schema: GraphQLSchema, document: DocumentNode, rules: readonly ValidationRule[]): readonly GraphQLError[] {
  try {
    return validate(schema, document, rules);
  } catch (err) {
    if (err instanceof GraphQLError) return [err];
    throw err;
  }
}

/**
 * For the HTTP endpoint, whose validation Apollo runs itself (and answers 500 when validate() throws): the error
 * validate() would throw for this document's subscriptions, as a coded validation error, or undefined. Only
 * documents with a subscription are checked.
 */
export function thrownByValidation(schema: GraphQLSchema, document: DocumentNode): GraphQLError | undefined {
  if (!document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION && d.operation === 'subscription')) return undefined;
  try {
    validate(schema, document, [SingleFieldSubscriptionsRule]);
    return undefined;
  } catch (err) {
    if (!(err instanceof GraphQLError)) throw err;
    return new GraphQLError(err.message, { nodes: err.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  }
}

/**
 * Parsed and validated documents, by query text, for one schema and one set of validation rules (as Apollo's
 * document store does for HTTP): clients send the same few operations over and over (a heartbeat every 30 s),
 * and parsing and validation are the dearest steps of a small operation. Only documents that passed validation
 * are kept, so a changed or invalid text is parsed and validated again (and refused again) every time.
 * Least recently used documents are dropped beyond `max` documents or `maxTotalLength` characters of text, and
 * texts longer than `maxTextLength` are never kept, so a client cannot fill the server's memory with distinct
 * documents (1000 documents of 64 KB each, and their trees, would have held a few hundred MB).
 */
export class ValidatedDocumentCache {
  private readonly documents = new Map<string, DocumentNode>();
  private totalLength = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly rules: readonly ValidationRule[],
    private readonly options: { max?: number; maxTextLength?: number; maxTotalLength?: number; parseOptions?: ParseOptions; onInvalid?: (errors: readonly GraphQLError[]) => void } = {},
  ) {}

  get size(): number {
    return this.documents.size;
  }

  /** The validated document for `query`, or the errors that refuse it. */
  get(query: string): DocumentNode | readonly GraphQLError[] {
    const cached = this.documents.get(query);
    if (cached) {
      // Map keeps insertion order: re-inserting marks the entry as most recently used.
      this.documents.delete(query);
      this.documents.set(query, cached);
      return cached;
    }
    const tooDeep = nestingError(query);
    if (tooDeep) return [tooDeep];
    let document: DocumentNode;
    try {
      document = parse(query, this.options.parseOptions);
    } catch (err) {
      if (err instanceof GraphQLError) return [err];
      throw err;
    }
    const errors = validateDocument(this.schema, document, this.rules);
    if (errors.length) {
      this.options.onInvalid?.(errors);
      return errors;
    }
    if (query.length <= (this.options.maxTextLength ?? 64 * 1024)) {
      const max = this.options.max ?? 1000;
      const maxTotal = this.options.maxTotalLength ?? 4 * 1024 * 1024;
      while (this.documents.size && (this.documents.size >= max || this.totalLength + query.length > maxTotal)) {
        const oldest = this.documents.keys().next().value!;
        this.documents.delete(oldest);
        this.totalLength -= oldest.length;
      }
      this.documents.set(query, document);
      this.totalLength += query.length;
    }
    return document;
  }
}
