import { getTableColumns, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { DbExecutor } from '../db/database';
import type { AuditEvent, AuditRequest } from './audit-event';
import { auditLogs, type NewAuditLogRow } from './audit-log.table';

/** The columns a writer fills; `id` and `occurred_at` come from the database. */
const WRITTEN = (Object.entries(getTableColumns(auditLogs)) as [keyof NewAuditLogRow, AnyPgColumn][]).filter(
  ([, column]) => column.name !== 'id' && column.name !== 'occurred_at',
);
/** The columns of `audit_logs` every audit INSERT names, which the serving role must be allowed to fill. */
export const WRITTEN_COLUMN_NAMES: readonly string[] = WRITTEN.map(([, column]) => column.name);
const COLUMN_LIST = sql.raw(WRITTEN.map(([, column]) => `"${column.name}"`).join(', '));
const RECORD_TYPE = sql.raw(WRITTEN.map(([, column]) => `"${column.name}" ${column.getSQLType()}`).join(', '));

/**
 * The only code that writes audit rows: all of `events` in one INSERT through `executor`, which
 * is the caller's transaction when the rows must commit with a change.
 *
 * The rows travel as one JSON parameter expanded by `jsonb_to_recordset`: a read of 100 records
 * writes 100 rows, and binding 12 parameters per row cost more CPU than the rest of the request.
 */
export async function insertAuditRows(
  executor: DbExecutor,
  request: AuditRequest,
  events: readonly AuditEvent[],
): Promise<void> {
  if (events.length === 0) return;
  const rows = JSON.stringify(events.map((event) => byColumnName(toRow(request, event))));
  await executor.execute(
    sql`insert into ${auditLogs} (${COLUMN_LIST}) select ${COLUMN_LIST} from jsonb_to_recordset(${rows}::jsonb) as r(${RECORD_TYPE})`,
  );
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

/** The row keyed by column name, as `jsonb_to_recordset` reads it. */
function byColumnName(row: NewAuditLogRow): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [key, column] of WRITTEN) record[column.name] = row[key] ?? null;
  return record;
}
