import { defineAuditAction } from '../../audit';

/** Recorded for every query of the audit trail, allowed or denied. */
export const VIEW_AUDIT_LOGS = defineAuditAction({
  name: 'view_audit_logs',
  resourceType: 'audit_log',
  activity: 'read',
  description:
    'every `auditLogs` / `auditLog` / `auditIntegrity` / `auditStats` query, allowed or refused (also for bad input), and every refused `auditActions`; one row per request, whose `resource_type`, `resource_ids` and `owner_ids` name the owned records whose data it showed (`admin_bypass` when they are others\'); for a live feed, its start, each delivered batch that carries owned records (naming them, before it is sent) and its end',
  details: '`{ filter, first, after, order }`, `{ id }`, `{ integrity: true }`, `{ filter, groupBy, bucket, first, order }` (`auditStats`) or `{ actions: true }` of the first query, `fields`, `count`; `reason: "invalid_input"` and `field` when refused for bad input; a feed\'s `{ filter, after, feed: "started" | "delivered" | "ended" }` with `rows` or `rowsDelivered`',
});

/** The fields of a `view_audit_logs` row, minus what the query asked for. */
export const viewAuditLogs = { action: VIEW_AUDIT_LOGS } as const;

/** What a query of the trail asked for, as stored in `details`: `{ filter, first, after }`, and `order` when it is not the default. */
export function auditQueryDetails(args: { filter?: unknown; first?: unknown; after?: unknown; order?: unknown }): Record<string, unknown> {
  return { filter: args.filter ?? null, first: args.first ?? null, after: args.after ?? null, ...(args.order != null && args.order !== 'NEWEST_FIRST' ? { order: args.order } : {}) };
}

/** Recorded for every export of the trail (`GET /audit/export`, `npm run audit:export`), allowed or refused. */
export const EXPORT_AUDIT_LOGS = defineAuditAction({
  name: 'export_audit_logs',
  resourceType: 'audit_log',
  activity: 'read',
  description:
    'every export of the trail (`GET /audit/export`, `npm run audit:export`), written before the first row is sent; refused (outcome `denied`) or cut short (outcome `error`)',
  details:
    '`{ from, to, format, rows }` (rows: how many the export holds); `rowsSent` when cut short; `reason` and `field` when refused',
});

/** What an `auditStats` query asked for, as stored in `details`. */
export function auditStatsDetails(args: { filter?: unknown; groupBy?: unknown; bucket?: unknown; first?: unknown; order?: unknown }): Record<string, unknown> {
  return { filter: args.filter ?? null, groupBy: args.groupBy ?? null, bucket: args.bucket ?? null, first: args.first ?? null, order: args.order ?? null };
}

/** The actions of querying, following and exporting the trail, for the server's registry. */
export const AUDIT_LOG_ACTIONS = [VIEW_AUDIT_LOGS, EXPORT_AUDIT_LOGS] as const;
