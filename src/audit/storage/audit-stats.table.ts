import { sql } from 'drizzle-orm';
import { bigint, boolean, index, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';

/*
 * Counts of sealed audit rows, kept by the database in the transaction of each seal (trigger
 * `audit_stats_roll_up_seal` on `audit_seals`): a seal adds the counts of exactly the rows it
 * covers, so the rollups hold every sealed row once and no unsealed one. They are derived, not
 * evidence: the trail and its seals are. `auditStats` reads them instead of the trail.
 */

const keyColumns = () => ({
  action: text('action').notNull(),
  outcome: text('outcome').notNull(),
  userRole: text('user_role'),
  resourceType: text('resource_type'),
  adminBypass: boolean('admin_bypass').notNull(),
  /** The reason code the rows' requests stated; null: none. */
  accessReason: text('access_reason'),
  count: bigint('count', { mode: 'number' }).notNull(),
});

/** Per UTC hour, every key but the user: a few dozen rows an hour, whatever the traffic. */
export const auditStatsHourly = pgTable(
  'audit_stats_hourly',
  {
    bucketStart: timestamp('bucket_start', { withTimezone: true }).notNull(),
    ...keyColumns(),
  },
  (table) => [
    // The seal's upsert target, and the time-range scan every query starts with.
    unique('audit_stats_hourly_key')
      .on(table.bucketStart, table.action, table.outcome, table.userRole, table.resourceType, table.adminBypass, table.accessReason)
      .nullsNotDistinct(),
  ],
);

/** The same per UTC day: 24 times fewer rows, for days and totals over whole days. */
export const auditStatsDaily = pgTable(
  'audit_stats_daily',
  {
    bucketStart: timestamp('bucket_start', { withTimezone: true }).notNull(),
    ...keyColumns(),
  },
  (table) => [
    unique('audit_stats_daily_key')
      .on(table.bucketStart, table.action, table.outcome, table.userRole, table.resourceType, table.adminBypass, table.accessReason)
      .nullsNotDistinct(),
  ],
);

/**
 * Per UTC day and user (null: anonymous), every key: what a grouping or filter by `userId` reads.
 * Up to users × their key combinations a day, so its indexes narrow to one user or to bypasses.
 */
export const auditStatsUserDaily = pgTable(
  'audit_stats_user_daily',
  {
    bucketStart: timestamp('bucket_start', { withTimezone: true }).notNull(),
    userId: text('user_id'),
    ...keyColumns(),
  },
  (table) => [
    unique('audit_stats_user_daily_key')
      .on(table.bucketStart, table.userId, table.action, table.outcome, table.userRole, table.resourceType, table.adminBypass, table.accessReason)
      .nullsNotDistinct(),
    index('audit_stats_user_daily_user_idx').on(table.userId, table.bucketStart),
    // Admins' bypasses are few among everyone's rows: "top admins by bypass" reads only them.
    index('audit_stats_user_daily_bypass_idx').on(table.bucketStart).where(sql`${table.adminBypass}`),
  ],
);
