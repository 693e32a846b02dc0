import type { GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '../core/errors';

/** How a `/graphql` request ended, as the `outcome` label says it. */
export const REQUEST_OUTCOMES = ['success', 'client_error', 'refused', 'server_error'] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

/** Codes of requests the server declined by policy: no or a bad token, not allowed, over a query limit. */
const REFUSAL_CODES = new Set<unknown>([ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN, ErrorCode.QUERY_TOO_COMPLEX]);

/**
 * The outcome of a request answered with HTTP `status` and, when GraphQL ran, `errors` as the
 * client received them (formatted: anything unexpected is `INTERNAL_SERVER_ERROR` by then). The
 * worst error decides: a server error, then a refusal, then any other client error; a request
 * that never reached GraphQL (malformed JSON, CSRF prevention, a rejected token) is judged by its
 * status.
 */
export function requestOutcome(status: number, errors: readonly GraphQLFormattedError[] | undefined): RequestOutcome {
  const codes = (errors ?? []).map((error) => error.extensions?.code);
  if (status >= 500 || codes.includes('INTERNAL_SERVER_ERROR')) return 'server_error';
  if (codes.some((code) => REFUSAL_CODES.has(code)) || status === 401 || status === 403) return 'refused';
  if (codes.length > 0 || status >= 400) return 'client_error';
  return 'success';
}
