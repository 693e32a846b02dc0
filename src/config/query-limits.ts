/**
 * How big a GraphQL document may be before it is refused, unexecuted. The defaults leave every
 * query this API's clients send (a page of 200 audit entries with every field, the README's
 * dashboard queries, a full introspection query) well below each limit, and refuse the known
 * denial-of-service shapes: fragment bombs, alias floods, deep nesting, long fragment chains.
 */
export interface QueryLimits {
  /**
   * Lexical tokens in the document (names, punctuation, values), counted by graphql-js's parser,
   * which stops at the first token past the limit: bounds parsing time, memory and recursion
   * before anything else runs. graphql-js's introspection query with every option on has 184.
   * @defaultValue 2000 (`GRAPHQL_MAX_TOKENS`)
   */
  readonly maxTokens: number;
  /**
   * Selections (fields, fragment spreads, inline fragments) of an operation once every fragment
   * spread is expanded, checked by Apollo Server's `maxRecursiveSelections` rule before the other
   * validation rules: stops fragment bombs whose expansion grows exponentially with their size.
   * That introspection query makes 240.
   * @defaultValue 1000 (`GRAPHQL_MAX_RECURSIVE_SELECTIONS`)
   */
  readonly maxRecursiveSelections: number;
  /**
   * Nesting of fields (fragments flattened); this schema's own queries are at most 4 deep.
   * Introspection through `__schema` is not counted here: graphql-js bounds it itself
   * (`MaxIntrospectionDepthRule`).
   * @defaultValue 10 (`GRAPHQL_MAX_DEPTH`)
   */
  readonly maxDepth: number;
  /**
   * Aliased fields, counting a fragment's aliases once per spread (`__typename` aliases are free):
   * each alias of a list field is another database query.
   * @defaultValue 30 (`GRAPHQL_MAX_ALIASES`)
   */
  readonly maxAliases: number;
  /**
   * Directive uses (`@include`, `@skip`, …), counting a fragment's once per spread.
   * @defaultValue 20 (`GRAPHQL_MAX_DIRECTIVES`)
   */
  readonly maxDirectives: number;
  /**
   * An upper bound of the field values the response can hold: every field costs 1 plus what it
   * selects, and a field with a `first` argument returns up to `first` of what it selects
   * (`items(first: 100) { nodes { id title } }` costs 1 + 100 × 3). Variables and argument
   * defaults are applied. A page of 200 audit entries with every field, as nodes and as edges,
   * with `totalCount` and `pageInfo`, costs 7,201; the README's example queries in one request, 2,434.
   * @defaultValue 10000 (`GRAPHQL_MAX_COST`)
   */
  readonly maxCost: number;
}

export type QueryLimitName = keyof QueryLimits;

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxTokens: 2000,
  maxRecursiveSelections: 1000,
  maxDepth: 10,
  maxAliases: 30,
  maxDirectives: 20,
  maxCost: 10000,
};

/** The environment variable that sets each limit. */
export const QUERY_LIMIT_VARIABLES: Readonly<Record<QueryLimitName, string>> = {
  maxTokens: 'GRAPHQL_MAX_TOKENS',
  maxRecursiveSelections: 'GRAPHQL_MAX_RECURSIVE_SELECTIONS',
  maxDepth: 'GRAPHQL_MAX_DEPTH',
  maxAliases: 'GRAPHQL_MAX_ALIASES',
  maxDirectives: 'GRAPHQL_MAX_DIRECTIVES',
  maxCost: 'GRAPHQL_MAX_COST',
};
