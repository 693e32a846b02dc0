import type { GraphQLResolveInfo } from 'graphql';
import type { AuditContext } from '../record/audit-context';

type Resolve = (parent: unknown, args: unknown, context: AuditContext, info: GraphQLResolveInfo) => unknown;

/**
 * Middleware for every root field (graphql-middleware's signature): the request's trail is
 * written only once each root field has settled. graphql-js answers as soon as a non-null root
 * field fails while the others still run; without this, what they record would be written after
 * the answer, or not at all.
 */
export function settleBeforeAudit(resolve: Resolve, parent: unknown, args: unknown, context: AuditContext, info: GraphQLResolveInfo): unknown {
  return context.audit.settles(resolve(parent, args, context, info));
}
