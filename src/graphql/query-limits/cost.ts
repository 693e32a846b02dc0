import { getVariableValues, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';

/**
 * A field with a `first` argument returns up to `first` of what it selects: every paginated
 * field, today's and any added later, is priced by the page it asks for. `first` is read after
 * variables and argument defaults are applied; a null one falls through to the simple estimator
 * (the resolver refuses it and returns no rows). A field taking a list of `ids` (`nodes`) returns
 * one object per id, and is priced so.
 */
const pageEstimator: ComplexityEstimator = ({ args, childComplexity }) =>
  typeof args.first === 'number'
    ? 1 + Math.max(0, args.first) * childComplexity
    : Array.isArray(args.ids)
      ? 1 + args.ids.length * childComplexity
      : undefined;

export interface CostedOperation {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  readonly variables: Record<string, unknown> | undefined;
}

/**
 * The operation's cost (see `QueryLimits.maxCost`), or `undefined` when its variables do not
 * coerce: execution refuses those with `BAD_USER_INPUT` before any resolver runs. Anything else
 * graphql-query-complexity throws propagates, so the operation fails rather than runs unpriced.
 *
 * `maxQueryNodes` must exceed the selections Apollo's `maxRecursiveSelections` rule let through,
 * so graphql-query-complexity's own node cap never fires on a document that reaches here.
 */
export function operationCost({ schema, document, operation, variables }: CostedOperation, maxQueryNodes: number): number | undefined {
  if (getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}).errors) return undefined;
  return getComplexity({
    schema,
    query: document,
    operationName: operation.name?.value,
    variables,
    estimators: [pageEstimator, simpleEstimator({ defaultComplexity: 1 })],
    maxQueryNodes,
  });
}
