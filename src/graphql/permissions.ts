import type { GraphQLResolveInfo } from 'graphql';
import { deny, rule, shield } from 'graphql-shield';
import type { Context } from '../api/context';
import { ACCESS_DENIED } from '../audit/wiring';
import { decodeGlobalId } from '../api/global-id';
import { auditTrailAccess, canReadAuditTrail } from '../audit-logs/query/audit-log.rules';
import { AUDIT_LOG_NODE } from '../audit-logs/query/audit-log.type';
import { Forbidden, Unauthenticated, type ClientError } from '../core/errors';

/**
 * Records a refused call of a root field as a denied `access_denied` (failed access attempts,
 * PCI DSS 10.2.1.4); all of a request's refusals make one row, written before the response leaves.
 */
function refuse(context: Context, info: GraphQLResolveInfo, error: ClientError, reason: string): ClientError {
  context.audit.denied({ action: ACCESS_DENIED, details: { reason } }, `${info.parentType.name}.${info.fieldName}`);
  return error;
}

const isAuthenticated = rule({ cache: 'no_cache' })((_parent, _args, context: Context, info) =>
  context.viewer ? true : refuse(context, info, new Unauthenticated(), 'unauthenticated'),
);

/**
 * `node(id:)` of an audit entry is a read of the trail, allowed and recorded as `auditLog(id:)`;
 * `nodes(ids:)` naming any audit entry is allowed to admins only, likewise.
 */
const canFetchNodes = rule({ cache: 'no_cache' })((_parent, args: { id?: string; ids?: string[] }, context: Context, info) => {
  if ((args.ids ?? [args.id]).some(namesAuditLog)) return auditTrailAccess(args, context, info);
  return context.viewer ? true : refuse(context, info, new Unauthenticated(), 'unauthenticated');
});

function namesAuditLog(id: string | undefined): boolean {
  try {
    return id !== undefined && decodeGlobalId(id, 'id').type === AUDIT_LOG_NODE;
  } catch {
    return false; // not an id at all: the resolver answers BAD_USER_INPUT
  }
}

/**
 * Who may call which root field. Anything not listed is denied, so a new operation is closed
 * until someone decides who may use it. Nested types are reachable only through these fields.
 */
export const permissions = shield(
  {
    Query: {
      '*': deny,
      me: isAuthenticated,
      item: isAuthenticated,
      items: isAuthenticated,
      auditLogs: canReadAuditTrail,
      auditLog: canReadAuditTrail,
      node: canFetchNodes,
      nodes: canFetchNodes,
      auditIntegrity: canReadAuditTrail,
      auditStats: canReadAuditTrail,
      auditActions: canReadAuditTrail,
    },
    Subscription: {
      '*': deny,
      auditLogAdded: canReadAuditTrail,
    },
    Mutation: {
      '*': deny,
      createItem: isAuthenticated,
      updateItem: isAuthenticated,
      deleteItem: isAuthenticated,
    },
  },
  {
    // Resolver errors (BAD_USER_INPUT, NOT_FOUND, ...) pass through instead of becoming "Not Authorised!".
    allowExternalErrors: true,
    fallbackError: (_thrown, _parent, _args, shieldContext, info) => {
      const context = shieldContext as unknown as Context;
      return context.viewer
        ? refuse(context, info, new Forbidden(), 'not_permitted')
        : refuse(context, info, new Unauthenticated(), 'unauthenticated');
    },
  },
);
