import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { Role } from '../../auth/viewer';
import { AUDIT_OUTCOMES } from '../model/audit-outcome';
import { xid8 } from '../integrity/column-types';
import { DATABASE_SESSION_KEY } from '../model/change-source';

/** The outcome most rows have, which no partial index of its own serves (see the indexes below). */
const COMMON_OUTCOME = 'success';
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
    /** The reason code the request stated (`Access-Reason`), for every row of that request; null: none stated. */
    accessReason: text('access_reason'),
    /** What the reason refers to (a ticket id), when stated after the code. */
    accessReference: text('access_reference'),
    /** The request stated the break-glass code: access that must page someone. Kept, so renaming the code later unflags nothing. */
    breakGlass: boolean('break_glass').notNull().default(false),
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
      // A reference or the break-glass flag only ever comes with the reason code it was stated with.
      // Unqualified names: drizzle-kit qualifies columns with the table, which ALTER TABLE refuses.
      check('audit_logs_access_reason_check', sql.raw('access_reason is not null or (access_reference is null and not break_glass)')),
      index('audit_logs_occurred_at_idx').on(...newestFirst()),
      index('audit_logs_user_idx').on(table.userId, ...newestFirst()),
      // One user's changes (README "UserChanges"): each action one range, read newest first.
      index('audit_logs_user_action_idx').on(table.userId, table.action, ...newestFirst()),
      index('audit_logs_action_idx').on(table.action, ...newestFirst()),
      // The record's id leads, so a `resourceId` filter without its type reads one range too; the
      // type is then checked on that record's rows alone. Rows about no single record are left out.
      index('audit_logs_resource_idx')
        .on(table.resourceId, ...newestFirst())
        .where(sql`${table.resourceId} is not null`),
      // "Who saw item 42?" must find the rows that list it among others. Partial: most rows list
      // none, and a GIN index would still take an entry for each of their empty arrays.
      index('audit_logs_resource_ids_idx')
        .using('gin', table.resourceIds)
        .where(sql`cardinality(${table.resourceIds}) > 0`),
      // The rarer values of outcome, admin_bypass and the actor's role each have a partial index,
      // which holds nothing else: a filter for one reads its rows without stepping over the others,
      // however many surround them. The common value of each (a success, no bypass, a user) has
      // none: a filter for it reads the time index and keeps most of what it reads, and an index
      // on a value most rows hold would cost nearly every write and save no read. A flood of
      // denials or admin reads is then stepped over by such a filter, a page's worth at a time.
      ...AUDIT_OUTCOMES.filter((outcome) => outcome !== COMMON_OUTCOME).map((outcome) =>
        index(`audit_logs_outcome_${outcome}_idx`).on(...newestFirst()).where(sql`${table.outcome} = '${sql.raw(outcome)}'`),
      ),
      index('audit_logs_request_idx').on(table.requestId, ...newestFirst()),
      // The sealer reads each finished window of transactions; new rows land at the right end.
      index('audit_logs_xact_idx').on(table.xactId),
      index('audit_logs_admin_bypass_idx').on(...newestFirst()).where(sql`${table.adminBypass}`),
      // The actor's role, likewise (anonymous rows have none).
      ...Object.values(Role).filter((role) => role !== Role.USER).map((role) =>
        index(`audit_logs_role_${role.toLowerCase()}_idx`).on(...newestFirst()).where(sql`${table.userRole} = '${sql.raw(role)}'`),
      ),
      // Few rows state a reason (admins' requests), so these partial indexes cost the others nothing.
      index('audit_logs_access_reason_idx')
        .on(table.accessReason, ...newestFirst())
        .where(sql`${table.accessReason} is not null`),
      index('audit_logs_break_glass_idx').on(...newestFirst()).where(sql`${table.breakGlass}`),
      // Changes made outside the API, recorded by the database backstop: few rows, so a partial
      // index costs the others nothing and finds them however many API rows surround them.
      index('audit_logs_database_source_idx')
        .on(...newestFirst())
        .where(sql`${table.details} ? ${sql.raw(`'${DATABASE_SESSION_KEY}'`)}`),
      index('audit_logs_ip_idx').on(table.ip, ...newestFirst()),
      index('audit_logs_operation_idx').on(table.operationName, ...newestFirst()),
      // "What touched user Z's data?": most rows name one owner, read newest first from a btree on
      // it; the rows naming several (an admin's page of many users' items) are found by GIN.
      index('audit_logs_owner_idx')
        .on(sql`(${table.ownerIds}[1])`, ...newestFirst())
        .where(sql`cardinality(${table.ownerIds}) = 1`),
      // An owner's access log (`myDataAccess`): the few rows where an admin acted on their records,
      // newest first, without stepping over the owner's own activity.
      index('audit_logs_owner_bypass_idx')
        .on(sql`(${table.ownerIds}[1])`, ...newestFirst())
        .where(sql`${table.adminBypass} and cardinality(${table.ownerIds}) = 1`),
      index('audit_logs_owner_ids_idx')
        .using('gin', table.ownerIds)
        .where(sql`cardinality(${table.ownerIds}) > 1`),
    ];
  },
);

export type AuditLogRow = typeof auditLogs.$inferSelect;
export type NewAuditLogRow = typeof auditLogs.$inferInsert;
