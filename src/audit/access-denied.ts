import type { GraphQLError } from 'graphql';

/**
 * Thrown by a feature inside {@link RequestAudit.change} when the caller may not make the change.
 * The audit module records a `denied` row outside the (rolled back) transaction, then the client
 * receives `clientError`, which need not admit that the resource exists.
 */
export class AccessDenied extends Error {
  override readonly name = 'AccessDenied';

  constructor(
    readonly clientError: GraphQLError,
    readonly details: Record<string, unknown>,
  ) {
    super(clientError.message);
  }
}
