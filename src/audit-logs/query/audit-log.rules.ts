import { rule } from 'graphql-shield';
import type { Context } from '../../api/context';
import { isAdmin } from '../../auth/viewer';
import type { GraphQLResolveInfo } from 'graphql';
import { Forbidden, Unauthenticated, type ClientError } from '../../core/errors';
import { auditQueryDetails, auditStatsDetails, viewAuditLogs } from './audit-log.actions';
import { AUDIT_LOG_NODE } from './audit-log.type';

/** What a refused query of the trail asked for: by id (`auditLog`, `node`), by ids (`nodes`), or by root field. */
function refusedQueryDetails(fieldName: string, args: Record<string, unknown>): Record<string, unknown> {
  if ('id' in args) return { id: args.id };
  if ('ids' in args) return { ids: args.ids };
  switch (fieldName) {
    case 'auditIntegrity':
      return { integrity: true };
    case 'auditStats':
      return auditStatsDetails(args);
    case 'auditActions':
      return { actions: true };
    default:
      return auditQueryDetails(args);
  }
}

/**
 * Only admins read the audit trail. Every refused attempt is itself recorded as a denied
 * `view_audit_logs`, written before the response leaves with FORBIDDEN (or UNAUTHENTICATED).
 */
export const canReadAuditTrail = rule({ cache: 'no_cache' })((_parent, args: Record<string, unknown>, context: Context, info) =>
  auditTrailAccess(args, context, info),
);

/**
 * {@link canReadAuditTrail}'s decision, for rules of fields that reach audit entries another way
 * (`node(id:)`, `nodes(ids:)`): `args` are `{ id }` for one entry, `{ ids }` for several, or a
 * query's `filter`, `first` and `after`.
 */
export function auditTrailAccess(args: Record<string, unknown>, context: Context, info: GraphQLResolveInfo): true | ClientError {
  const byId = 'id' in args;
  const refusal = refusalToRead(context, `${info.parentType.name}.${info.fieldName}`, {
    resourceId: byId ? auditLogKey(args.id) : null,
    details: refusedQueryDetails(info.fieldName, args),
  });
  return refusal ?? true;
}

/**
 * The one decision behind every read of the trail: an admin may (undefined); anyone else gets
 * the error to answer with, and the attempt is recorded as a denied `view_audit_logs` of `field`.
 */
export function refusalToRead(context: Context, field: string, event: { resourceId?: string | null; details: Record<string, unknown> }): ClientError | undefined {
  if (isAdmin(context.viewer)) return undefined;
  context.audit.denied({ ...viewAuditLogs, resourceId: event.resourceId ?? null, details: event.details }, field);
  return context.viewer ? new Forbidden('the audit trail is for admins only') : new Unauthenticated();
}

/** The row id a refused `auditLog(id:)` asked for, as the trail stores ids; null if `id` is no audit entry's id. */
function auditLogKey(id: unknown): string | null {
  try {
    return String(AUDIT_LOG_NODE.parse(String(id), 'id'));
  } catch {
    return null;
  }
}
