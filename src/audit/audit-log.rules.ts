import { rule } from 'graphql-shield';
import { Role } from '../auth/viewer';
import type { Context } from '../graphql/context';
import { forbidden, unauthenticated } from '../graphql/errors';
import { VIEW_AUDIT_LOGS, auditQueryDetails } from './audit-log.actions';

/**
 * Only admins read the audit trail. Every refused attempt is itself recorded as a denied
 * `view_audit_logs`, written before the client hears FORBIDDEN (or UNAUTHENTICATED).
 */
export const canReadAuditTrail = rule({ cache: 'no_cache' })(async (_parent, args: Record<string, unknown>, context: Context, info) => {
  if (context.viewer?.role === Role.ADMIN) return true;
  const byId = info.fieldName === 'auditLog';
  await context.audit.denied({
    ...VIEW_AUDIT_LOGS,
    resourceId: byId ? String(args.id) : null,
    details: byId ? { id: args.id } : auditQueryDetails(args),
  });
  return context.viewer ? forbidden('the audit trail is for admins only') : unauthenticated();
});
