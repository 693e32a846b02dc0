import { GraphQLError, type ValidationRule } from 'graphql';

/**
 * Refuses an operation whose root type the schema lacks (here: any `subscription`). graphql-js 16
 * validates such a document and only fails while executing it, which clients would see as an
 * internal error; as a validation error it is HTTP 400 `GRAPHQL_VALIDATION_FAILED` before anything
 * runs. (graphql-js 17 ships the same check as `KnownOperationTypesRule`.)
 */
export const KnownOperationTypes: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (!context.getSchema().getRootType(node.operation)) {
      context.reportError(new GraphQLError(`This API has no ${node.operation} operations.`, { nodes: node }));
    }
  },
});
