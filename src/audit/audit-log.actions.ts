/** The event recorded for every query of the audit trail, allowed or denied. */
export const VIEW_AUDIT_LOGS = { action: 'view_audit_logs', resourceType: 'audit_log' } as const;

/** What a query of the trail asked for, as stored in `details`: `{ filter, first, after }`. */
export function auditQueryDetails(args: { filter?: unknown; first?: unknown; after?: unknown }): Record<string, unknown> {
  return { filter: args.filter ?? null, first: args.first ?? null, after: args.after ?? null };
}
