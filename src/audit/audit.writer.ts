import type { DbExecutor } from '../db/database';
import type { AuditEvent, AuditRequest } from './audit-event';
import { auditLogs, type NewAuditLogRow } from './audit-log.table';

/**
 * The only code that writes audit rows: all of `events` in one multi-row INSERT through
 * `executor`, which is the caller's transaction when the rows must commit with a change.
 */
export async function insertAuditRows(
  executor: DbExecutor,
  request: AuditRequest,
  events: readonly AuditEvent[],
): Promise<void> {
  if (events.length === 0) return;
  await executor.insert(auditLogs).values(events.map((event) => toRow(request, event)));
}

/** How {@link RequestAudit} stores rows: {@link insertAuditRows}, unless a benchmark swaps it out. */
export type AuditWriter = typeof insertAuditRows;

function toRow(request: AuditRequest, event: AuditEvent): NewAuditLogRow {
  return {
    userId: request.viewer?.id ?? null,
    userRole: request.viewer?.role ?? null,
    action: event.action,
    resourceType: event.resourceType ?? null,
    resourceId: event.resourceId ?? null,
    outcome: event.outcome,
    adminBypass: event.adminBypass ?? false,
    details: event.details ?? {},
    requestId: request.requestId,
    operationName: request.operationName,
    ip: request.ip,
    userAgent: request.userAgent,
  };
}
