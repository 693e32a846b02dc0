import { rule } from 'graphql-shield';
import type { Context } from '../api/context';
import { isAdmin } from '../auth/viewer';
import { Forbidden, Unauthenticated } from '../core/errors';
import { auditQueryDetails, viewAuditLogs } from './audit-log.actions';

/**
 * Only admins read the audit trail. Every refused attempt is itself recorded as a denied
 * `view_audit_logs`, written before the response leaves with FORBIDDEN (or UNAUTHENTICATED).
 */
export const canReadAuditTrail = rule({ cache: 'no_cache' })((_parent, args: Record<string, unknown>, context: Context, info) => {
  if (isAdmin(context.viewer)) return true;
  const byId = info.fieldName === 'auditLog';
  context.audit.denied(
    {
      ...viewAuditLogs,
      resourceId: byId ? String(args.id) : null,
      details: byId ? { id: args.id } : auditQueryDetails(args),
    },
    `${info.parentType.name}.${info.fieldName}`,
  );
  return context.viewer ? new Forbidden('the audit trail is for admins only') : new Unauthenticated();
});
