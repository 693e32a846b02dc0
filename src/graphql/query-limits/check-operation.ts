import {
  getOperationAST,
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationRule,
} from 'graphql';
import type { QueryLimits } from '../../config/query-limits';
import { operationCost } from './cost';
import { hasMoreTokensThan, recursiveSelections } from './measure';
import { QueryLimitExceeded, type QueryRefusal } from './refusal';
import { queryLimitRules } from './validation-rules';

/** What an operation is checked with on a door Apollo Server does not serve. */
export interface OperationCheckOptions {
  readonly schema: GraphQLSchema;
  readonly limits: QueryLimits;
  /** Rules of the door beyond the query limits (which operation types it serves). */
  readonly rules: readonly ValidationRule[];
  /** Whether `__schema` and `__type` may be asked for, as `GRAPHQL_INTROSPECTION` says for HTTP. */
  readonly introspection: boolean;
}

/** An operation that passed every check, ready to run. */
export interface CheckedOperation {
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
}

/** An operation refused before it ran: the errors to answer with, and the limit it was over, if that is why. */
export interface RefusedOperation {
  readonly errors: readonly GraphQLError[];
  readonly refusal?: QueryRefusal;
}

/**
 * The checks Apollo Server makes of an HTTP operation (configured by {@link queryLimits} from the
 * same limits), in the same order, for the doors it does not serve (graphql-ws): the parser's token
 * cap, the recursive-selection count, graphql-js's rules (and no introspection where it is off),
 * the depth, alias and directive limits with the door's rules, then the cost once the operation
 * and its variables are known. Each failure carries the code Apollo gives it over HTTP.
 */
export function checkOperation(
  options: OperationCheckOptions,
  request: { readonly query: unknown; readonly variables?: Record<string, unknown> | null; readonly operationName?: string | null },
): CheckedOperation | RefusedOperation {
  const { schema, limits } = options;
  const refused = (refusal: QueryRefusal): RefusedOperation => ({ errors: [new QueryLimitExceeded(refusal)], refusal });
  if (typeof request.query !== 'string') return { errors: [coded(new GraphQLError('The operation has no query text.'), 'BAD_REQUEST')] };
  let document: DocumentNode;
  try {
    document = parse(request.query, { maxTokens: limits.maxTokens });
  } catch (error) {
    if (hasMoreTokensThan(request.query, limits.maxTokens)) return refused({ limit: 'maxTokens', max: limits.maxTokens, measured: limits.maxTokens + 1 });
    return { errors: [coded(error instanceof GraphQLError ? error : new GraphQLError('The document could not be parsed.'), 'GRAPHQL_PARSE_FAILED')] };
  }
  const selections = recursiveSelections(document);
  if (selections > limits.maxRecursiveSelections) {
    return refused({ limit: 'maxRecursiveSelections', max: limits.maxRecursiveSelections, measured: selections });
  }
  const invalid = validate(schema, document, options.introspection ? specifiedRules : [...specifiedRules, NoSchemaIntrospectionCustomRule]);
  if (invalid.length > 0) return { errors: invalid.map((error) => coded(error, 'GRAPHQL_VALIDATION_FAILED')) };
  const overLimits = validate(schema, document, [...queryLimitRules(limits), ...options.rules]);
  const overLimit = overLimits.find((error): error is QueryLimitExceeded => error instanceof QueryLimitExceeded);
  if (overLimit) return refused(overLimit.refusal);
  if (overLimits.length > 0) return { errors: overLimits.map((error) => coded(error, 'GRAPHQL_VALIDATION_FAILED')) };
  const operation = getOperationAST(document, request.operationName ?? undefined);
  if (!operation) return { errors: [coded(new GraphQLError('The document names no operation to run, or several without an operationName.'), 'BAD_USER_INPUT')] };
  const cost = operationCost({ schema, document, operation, variables: request.variables ?? undefined }, limits.maxRecursiveSelections + 1);
  if (cost !== undefined && cost > limits.maxCost) return refused({ limit: 'maxCost', max: limits.maxCost, measured: cost });
  return { document, operation };
}

/** `error` with the code Apollo gives the same failure over HTTP, so it reaches the client as it is. */
function coded(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code } });
}
