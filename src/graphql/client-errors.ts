import { GraphQLError } from 'graphql';
import type { ClientError } from '../core/errors';

/**
 * The GraphQL error a client receives for a {@link ClientError}: its message, its code and its
 * extensions (e.g. `field`), and over HTTP (`overHttp`, the default) the status Apollo answers
 * with when the whole request fails (a bad token → 401).
 */
export function toGraphQLError(error: ClientError, overHttp = true): GraphQLError {
  const httpStatus = overHttp && 'httpStatus' in error && typeof error.httpStatus === 'number' ? error.httpStatus : undefined;
  return new GraphQLError(error.message, {
    originalError: error,
    extensions: { code: error.code, ...error.extensions, ...(httpStatus ? { http: { status: httpStatus } } : {}) },
  });
}
