import { GraphQLError } from 'graphql';

/**
 * The error codes clients can rely on (`extensions.code`). Anything else reaching a client is
 * `INTERNAL_SERVER_ERROR` with a generic message; see `format-error.ts`.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  FORBIDDEN: 'FORBIDDEN',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** A document over a query limit, refused before execution (`src/graphql/query-limits/`). */
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
} as const;

/** Bad input; `field` names the argument or input field at fault (e.g. `input.title`). */
export function badUserInput(field: string, message: string): GraphQLError {
  return new GraphQLError(`${field}: ${message}`, { extensions: { code: ErrorCode.BAD_USER_INPUT, field } });
}

export function notFound(what: string): GraphQLError {
  return new GraphQLError(`${what} not found`, { extensions: { code: ErrorCode.NOT_FOUND } });
}

export function forbidden(message = 'not allowed'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.FORBIDDEN } });
}

/** `httpStatus` is set for request-level failures (a bad token), not for per-field denials. */
export function unauthenticated(message = 'authentication required', httpStatus?: number): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: ErrorCode.UNAUTHENTICATED, ...(httpStatus ? { http: { status: httpStatus } } : {}) },
  });
}
