import { ApolloServerErrorCode, ApolloServerValidationErrorCode, unwrapResolverError } from '@apollo/server/errors';
import { Kind, type ASTNode, type GraphQLFormattedError } from 'graphql';
import type { Logger } from '../config/logger';
import { ClientError, ErrorCode } from '../core/errors';

/** Codes whose messages were written for clients; everything else is an internal failure. */
const CLIENT_CODES = new Set<unknown>([
  ...Object.values(ErrorCode),
  ...Object.values(ApolloServerValidationErrorCode),
  ApolloServerErrorCode.GRAPHQL_PARSE_FAILED,
  ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED,
  ApolloServerErrorCode.PERSISTED_QUERY_NOT_FOUND,
  ApolloServerErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
  ApolloServerErrorCode.OPERATION_RESOLUTION_FAILURE,
  ApolloServerErrorCode.BAD_REQUEST,
]);

/**
 * Apollo's `formatError`: client errors (a {@link ClientError} a service raised, or a GraphQL
 * error with a client code) go out with their code; anything else (a database error, a
 * bug) is logged with its stack and replaced by a generic `INTERNAL_SERVER_ERROR`, so no SQL,
 * stack trace or internal detail reaches a client.
 */
export function createFormatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof ClientError) {
      return { ...formatted, message: original.message, extensions: { code: original.code, ...original.extensions } };
    }
    const code = formatted.extensions?.code;
    if (CLIENT_CODES.has(code)) {
      const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      if (code === ErrorCode.BAD_USER_INPUT && extensions.field === undefined) {
        const field = variableAtFault(error);
        if (field !== undefined) extensions.field = field;
      }
      return { ...formatted, extensions };
    }
    logger.error({ err: original, path: formatted.path }, 'internal error while executing GraphQL');
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ApolloServerErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}

/**
 * The variable (and path inside it) that graphql-js could not coerce, e.g. `from` or `filter.from`.
 * Apollo reports those as BAD_USER_INPUT without the `field` every other BAD_USER_INPUT carries;
 * graphql-js attaches the variable's definition node and names the path only in its message.
 */
function variableAtFault(error: unknown): string | undefined {
  const { nodes, message } = (error ?? {}) as { nodes?: readonly ASTNode[]; message?: string };
  const node = nodes?.[0];
  if (node?.kind !== Kind.VARIABLE_DEFINITION) return undefined;
  const name = node.variable.name.value;
  return message?.match(new RegExp(` at "(${name}[.[][^"]*)"; `))?.[1] ?? name;
}
