import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import type { GraphQLError, ValidationContext, ValidationRule } from 'graphql';

/**
 * graphql-armor's limits that graphql-query-complexity does not cover: aliases (each alias of a field runs its
 * resolver again) and directives per operation, as validation rules for both transports; and its field-suggestion
 * blocking, so a validation error never lists the schema's field names to a caller who may not introspect.
 */
export interface ArmorLimits {
  maxAliases: number;
  maxDirectives: number;
}

// A refusal is reported as a validation error (GRAPHQL_VALIDATION_FAILED), not thrown out of validate().
const report = { propagateOnRejection: false, onReject: [(ctx: ValidationContext | null, err: GraphQLError) => ctx?.reportError(err)] };

export function armorValidationRules(limits: ArmorLimits): ValidationRule[] {
  return [maxAliasesRule({ n: limits.maxAliases, exposeLimits: true, ...report }), maxDirectivesRule({ n: limits.maxDirectives, exposeLimits: true, ...report })];
}

type OnValidateEnd = (payload: { valid: boolean; result: readonly GraphQLError[]; setResult(errors: GraphQLError[]): void }) => void;

// The plugin is written for envelop: its onValidate hook returns the end hook that rewrites the errors' messages.
const onValidateEnd = (blockFieldSuggestionsPlugin().onValidate as unknown as (payload: unknown) => OnValidateEnd)({});

/** Removes "Did you mean ...?" from validation errors (in place; returns them). */
export function hideFieldSuggestions<E extends readonly GraphQLError[]>(errors: E): E {
  if (errors.length) onValidateEnd({ valid: false, result: errors, setResult: () => {} });
  return errors;
}
