import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { AUDIT_OUTCOMES } from './audit-outcome';
import { xid8 } from './integrity/column-types';

const OUTCOME_LIST = sql.raw(AUDIT_OUTCOMES.map((outcome) => `'${outcome}'`).join(', '));

/**
 * The audit trail. Append-only: a trigger (migration 0002) rejects UPDATE, DELETE and TRUNCATE.
 * Range-partitioned by month of `occurred_at` (migration 0007, hand-written: drizzle cannot declare
 * partitions), so that retention drops whole months (`audit-retention.ts`).
 * Every index ends in (occurred_at, id), read backwards, so each filter reads newest-first pages by
 * keyset without sorting, however many rows match.
 */
export const auditLogs = pgTable(
  'audit_logs',
  {
    id: bigint('id', { mode: 'bigint' }).notNull().generatedAlwaysAsIdentity(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    /** The application user (JWT `sub`), never the database role; null for anonymous callers. */
    userId: text('user_id'),
    userRole: text('user_role'),
    action: text('action').notNull(),
    resourceType: text('resource_type'),
    resourceId: text('resource_id'),
    /**
     * The records a row is about when it is about several — the items a query of the trail
     * disclosed — in place of `resource_id`; empty otherwise.
     */
    resourceIds: text('resource_ids').array().notNull().default(sql`'{}'`),
    /** The owners (JWT `sub`) of the records the row is about: whose data was read or changed. */
    ownerIds: text('owner_ids').array().notNull().default(sql`'{}'`),
    outcome: text('outcome', { enum: AUDIT_OUTCOMES }).notNull(),
    adminBypass: boolean('admin_bypass').notNull().default(false),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    requestId: text('request_id'),
    operationName: text('operation_name'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    /**
     * The writing transaction (`pg_current_xact_id()`), stamped by the database like `id`: seals
     * cover rows by it, so a seal never misses a row whose transaction was still running. Rows
     * older than the column have 1, below every real transaction id.
     */
    xactId: xid8('xact_id').notNull().default(sql`'1'`),
  },
  (table) => {
    // Ascending, read backwards: a backward scan of (…, occurred_at, id) gives exactly ORDER BY
    // occurred_at DESC, id DESC (NULLS FIRST), and new rows land at the index's right end, where
    // PostgreSQL splits pages 90/10 rather than 50/50: ~1.8x smaller than the same index DESC.
    const newestFirst = () => [table.occurredAt, table.id] as const;
    return [
      // A partitioned table's keys must include its partition key; ids are unique all the same (one
      // identity sequence, drawn by the stamping trigger), and `id = $1` probes each month's index.
      primaryKey({ columns: [table.id, table.occurredAt] }),
      check('audit_logs_outcome_check', sql`${table.outcome} in (${OUTCOME_LIST})`),
      index('audit_logs_occurred_at_idx').on(...newestFirst()),
      index('audit_logs_user_idx').on(table.userId, ...newestFirst()),
      index('audit_logs_action_idx').on(table.action, ...newestFirst()),
      index('audit_logs_resource_idx').on(table.resourceType, table.resourceId, ...newestFirst()),
      // "Who saw item 42?" must find the rows that list it among others. Partial: most rows list
      // none, and a GIN index would still take an entry for each of their empty arrays.
      index('audit_logs_resource_ids_idx')
        .using('gin', table.resourceIds)
        .where(sql`cardinality(${table.resourceIds}) > 0`),
      // Refusals and failures are what the outcome filter is for; most rows succeed, and skipping
      // them here spares one index insert per row. OUTCOME: SUCCESS reads the time index instead.
      index('audit_logs_outcome_idx')
        .on(table.outcome, ...newestFirst())
        .where(sql`${table.outcome} in ('denied', 'error')`),
      index('audit_logs_request_idx').on(table.requestId, ...newestFirst()),
      // The sealer reads each finished window of transactions; new rows land at the right end.
      index('audit_logs_xact_idx').on(table.xactId),
      // Admin bypasses are what reviewers look at first, and a small share of all rows.
      index('audit_logs_admin_bypass_idx').on(...newestFirst()).where(sql`${table.adminBypass}`),
    ];
  },
);

export type AuditLogRow = typeof auditLogs.$inferSelect;
export type NewAuditLogRow = typeof auditLogs.$inferInsert;
