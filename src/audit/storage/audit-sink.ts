import { createHash } from 'node:crypto';
import { getTableColumns, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Db, DbExecutor } from '../../db/database';
import type { AuditEvent, AuditRequest } from '../record/audit-event';
import type { AuditObserver } from '../record/audit-observer';
import { auditLogs, type NewAuditLogRow } from './audit-log.table';
import { API_CHANGE_SETTING } from './backstop';
import { GroupCommit } from './group-commit';
import { ROW_LIMITS, capDetails, capString, truncatedMark, type Truncations } from '../record/row-limits';

/** The columns the database stamps (migrations 0005 and later), whatever an INSERT says. */
const STAMPED = new Set(['id', 'occurred_at', 'xact_id']);
/** The columns a writer fills. */
const WRITTEN = (Object.entries(getTableColumns(auditLogs)) as [keyof NewAuditLogRow, AnyPgColumn][]).filter(
  ([, column]) => !STAMPED.has(column.name),
);
/** The columns of `audit_logs` every audit INSERT names, which the serving role must be allowed to fill. */
export const WRITTEN_COLUMN_NAMES: readonly string[] = WRITTEN.map(([, column]) => column.name);
const COLUMN_LIST = sql.raw(WRITTEN.map(([, column]) => `"${column.name}"`).join(', '));
const RECORD_TYPE = sql.raw(WRITTEN.map(([, column]) => `"${column.name}" ${column.getSQLType()}`).join(', '));

/** Where a request's audit rows go. */
export interface AuditSink {
  /**
   * Whether admin reads are noted at all. Only the benchmark's audit-OFF server says no, so that
   * it measures the API without any of the trail's work.
   */
  readonly recordsReads: boolean;
  /** Stores rows that stand on their own; resolves once they are committed. */
  write(request: AuditRequest, events: readonly AuditEvent[]): Promise<void>;
  /** Stores rows that must commit with a change, through its transaction `tx`. */
  writeInTransaction(tx: DbExecutor, request: AuditRequest, events: readonly AuditEvent[]): Promise<void>;
  /**
   * Tells the database backstop, in transaction `tx`, that the API records the changes of the
   * statement whose text is `statement`, sent next: the backstop then writes no row for them, and
   * checks at commit that each record changed has the API's own (migration 0019). Sent at once, so
   * it travels ahead of that statement on the same connection.
   */
  claimStatement(tx: DbExecutor, statement: string): Promise<void>;
}

/**
 * The only code that writes audit rows: `rows` in one INSERT through `executor`. They travel as one
 * JSON parameter expanded by `jsonb_to_recordset`: binding a dozen parameters per row cost more CPU
 * than the rest of the request.
 */
async function insertAuditRows(executor: DbExecutor, rows: readonly Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  await executor.execute(
    sql`insert into ${auditLogs} (${COLUMN_LIST}) select ${COLUMN_LIST} from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(${RECORD_TYPE})`,
  );
}

const rowsOf = (request: AuditRequest, events: readonly AuditEvent[]) => events.map((event) => byColumnName(toRow(request, event)));

/** Stores `events` of `request` through `executor` (a transaction, for rows that must commit with it). */
const writeAuditRows = (executor: DbExecutor, request: AuditRequest, events: readonly AuditEvent[]) =>
  insertAuditRows(executor, rowsOf(request, events));

/**
 * The production sink: rows go to `audit_logs`. Rows that stand on their own are group-committed
 * with those of concurrent requests ({@link GroupCommit}); a change's rows go through its transaction.
 * `observer` is told how long each group commit took.
 */
export function postgresAuditSink(db: Db, observer?: AuditObserver): AuditSink {
  const insert = (rows: readonly Record<string, unknown>[]) => insertAuditRows(db, rows);
  const groupCommit = new GroupCommit<Record<string, unknown>>(observer ? timedInsert(insert, observer) : insert);
  return {
    recordsReads: true,
    write: (request, events) => groupCommit.write(rowsOf(request, events)),
    writeInTransaction: writeAuditRows,
    claimStatement,
  };
}

/** Calling `then` sends the statement now, ahead of any the caller issues next on `tx`. */
const claimStatement = (tx: DbExecutor, statement: string): Promise<void> =>
  tx.execute(sql`select pg_catalog.set_config(${API_CHANGE_SETTING}, ${createHash('md5').update(statement).digest('hex')}, true)`).then(() => undefined);

/** `insert`, reporting each statement's duration and outcome to `observer`. */
function timedInsert<Row>(insert: (rows: readonly Row[]) => Promise<void>, observer: AuditObserver) {
  return async (rows: readonly Row[]): Promise<void> => {
    const started = performance.now();
    let committed = false;
    try {
      await insert(rows);
      committed = true;
    } finally {
      observer.groupCommitEnded((performance.now() - started) / 1000, rows.length, committed);
    }
  };
}

/** For `npm run bench` only: the same API with nothing noted and nothing stored. */
export const discardingAuditSink: AuditSink = { recordsReads: false, write: async () => {}, writeInTransaction: async () => {}, claimStatement: async () => {} };

/** The row for `event`, with every string the client controls capped (see {@link ROW_LIMITS}). */
function toRow(request: AuditRequest, event: AuditEvent): NewAuditLogRow {
  const truncated: Truncations = {};
  const operationName = request.operationName && capString(request.operationName, ROW_LIMITS.operationName, 'operationName', truncated);
  const userAgent = request.userAgent && capString(request.userAgent, ROW_LIMITS.userAgent, 'userAgent', truncated);
  return {
    userId: request.viewer?.id ?? null,
    userRole: request.viewer?.role ?? null,
    action: event.action.name,
    resourceType: event.resourceType === undefined ? event.action.resourceType : event.resourceType,
    resourceId: event.resourceId ?? null,
    resourceIds: [...(event.resourceIds ?? [])],
    ownerIds: [...(event.ownerIds ?? [])],
    outcome: event.outcome,
    adminBypass: event.adminBypass ?? false,
    details: {
      ...(event.holdsRecordValues ? { ...event.details, ...truncatedMark(truncated) } : capDetails(event.details ?? {}, truncated)),
      ...recordsByOwner(event),
    },
    requestId: request.requestId,
    operationName,
    ip: request.ip,
    userAgent,
    accessReason: request.accessReason?.code ?? null,
    accessReference: request.accessReason?.reference ?? null,
    breakGlass: request.accessReason?.breakGlass ?? false,
  };
}

/**
 * `details.recordsByOwner` of a row about several owners' records: which records are whose, kept
 * whole (never capped) since it is what shows each owner their own records and no one else's.
 */
function recordsByOwner(event: AuditEvent): { recordsByOwner?: Record<string, string[]> } {
  if (!event.recordOwners || new Set(event.recordOwners.values()).size < 2) return {};
  const byOwner: Record<string, string[]> = {};
  for (const [record, owner] of event.recordOwners) (byOwner[owner] ??= []).push(record);
  return { recordsByOwner: byOwner };
}

/** The row keyed by column name, as `jsonb_to_recordset` reads it. */
function byColumnName(row: NewAuditLogRow): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [key, column] of WRITTEN) record[column.name] = row[key] ?? null;
  return record;
}
