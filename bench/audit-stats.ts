import type postgres from 'postgres';
import type { AuditStatsQuery } from '#src/audit-logs/audit-stats.service';
import { AuditStatsBucketSize, AuditStatsKey, AuditStatsOrder } from '#src/audit-logs/audit-stats.type';

/**
 * Fills the rollups for a seeded trail with the SQL each seal runs on its window (the owner may call
 * it): the seeded rows all carry `xact_id` 1, below every real transaction, so one window holds them.
 * Sealing them instead would hash every row first, which is the sealer's cost, not auditStats'.
 */
export async function rollUpSeededTrail(sql: postgres.Sql): Promise<void> {
  await sql`select audit_stats_roll_up('0'::xid8, '2'::xid8)`;
  await sql`vacuum analyze audit_stats_hourly, audit_stats_daily`;
}

/** The dashboard queries of 30 days that `bench:scale` times, as the API's service runs them. */
export function auditStatsCases(from: Date, to: Date): { name: string; query: AuditStatsQuery }[] {
  const filter = { from, to };
  const query = (groupBy: AuditStatsKey[], bucket: AuditStatsBucketSize | null, first: number, order = AuditStatsOrder.COUNT_DESC, extra = {}) =>
    ({ filter: { ...filter, ...extra }, groupBy, bucket, first, order }) satisfies AuditStatsQuery;
  const { ACTION, OUTCOME, USER_ID, USER_ROLE, RESOURCE_TYPE, ADMIN_BYPASS } = AuditStatsKey;
  const { HOUR, DAY } = AuditStatsBucketSize;
  return [
    { name: 'events per day by action', query: query([ACTION], DAY, 1000, AuditStatsOrder.TIME_ASC) },
    { name: 'denials per hour', query: query([], HOUR, 1000, AuditStatsOrder.TIME_ASC, { outcome: 'denied' }) },
    { name: 'every key but userId, per day', query: query([ACTION, OUTCOME, USER_ROLE, RESOURCE_TYPE, ADMIN_BYPASS], DAY, 1000) },
    { name: 'totals by action and outcome', query: query([ACTION, OUTCOME], null, 100) },
    { name: 'top admins by bypass', query: query([USER_ID], null, 10, AuditStatsOrder.COUNT_DESC, { adminBypass: true }) },
    { name: 'one user per day by action', query: query([ACTION], DAY, 1000, AuditStatsOrder.TIME_ASC, { userId: 'user-42' }) },
    { name: 'top users (all 2,000)', query: query([USER_ID], null, 10) },
    { name: 'top users by denials', query: query([USER_ID], null, 10, AuditStatsOrder.COUNT_DESC, { outcome: 'denied' }) },
  ];
}

/** Rows of each rollup, to print beside the timings. */
export async function rollupSizes(sql: postgres.Sql): Promise<string> {
  const [row] = await sql<{ hourly: number; daily: number }[]>`
    select (select count(*)::int from audit_stats_hourly) as hourly, (select count(*)::int from audit_stats_daily) as daily`;
  return `hourly ${row!.hourly.toLocaleString('en-US')} rows, daily (with users) ${row!.daily.toLocaleString('en-US')} rows`;
}
