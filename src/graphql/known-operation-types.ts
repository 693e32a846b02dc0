import { GraphQLError, type ValidationRule } from 'graphql';

/** The operations each transport serves: queries and mutations over HTTP, subscriptions over graphql-ws. */
const SERVED = {
  http: { types: ['query', 'mutation'], elsewhere: 'subscriptions are served over graphql-ws (WebSocket) on /graphql' },
  websocket: { types: ['subscription'], elsewhere: 'queries and mutations are served over HTTP on /graphql' },
} as const;

/**
 * Refuses an operation the schema lacks or `transport` does not serve. graphql-js 16 validates such
 * a document and only fails while executing it, which clients would see as an internal error; as a
 * validation error it is refused before anything runs (HTTP 400 `GRAPHQL_VALIDATION_FAILED`).
 * (graphql-js 17 ships the schema half as `KnownOperationTypesRule`.)
 */
export function servedOperationTypes(transport: keyof typeof SERVED): ValidationRule {
  const served = SERVED[transport];
  return (context) => ({
    OperationDefinition(node) {
      if (!context.getSchema().getRootType(node.operation)) {
        context.reportError(new GraphQLError(`This API has no ${node.operation} operations.`, { nodes: node }));
      } else if (!(served.types as readonly string[]).includes(node.operation)) {
        context.reportError(new GraphQLError(`Not a ${node.operation} over ${transport === 'http' ? 'HTTP' : 'WebSocket'}: ${served.elsewhere}.`, { nodes: node }));
      }
    },
  });
}
