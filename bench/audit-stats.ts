import type postgres from 'postgres';
import type { AuditStatsQuery } from '#src/audit-logs/stats/audit-stats.service';
import { AuditStatsBucketSize, AuditStatsKey, AuditStatsOrder } from '#src/audit-logs/stats/audit-stats.type';

/**
 * Fills the rollups of a seeded trail as they stand once every row is sealed, with the SQL each seal
 * runs on its window (the owner may call it), over one window holding every finished transaction's
 * rows: seeded rows carry `xact_id` 1, and a server's sealer may have counted some rows already, so
 * the rollups are emptied first. Sealing instead would hash every row: the sealer's cost, not
 * auditStats'.
 */
export async function rollUpSeededTrail(sql: postgres.Sql): Promise<void> {
  await sql`truncate audit_stats_hourly, audit_stats_daily, audit_stats_user_daily`;
  await sql`select audit_stats_roll_up('0'::xid8, pg_snapshot_xmin(pg_current_snapshot()))`;
  await sql`vacuum analyze audit_stats_hourly, audit_stats_daily, audit_stats_user_daily`;
}

/** The dashboard queries of 30 days that `bench:scale` times, as the API's service runs them. */
export function auditStatsCases(from: Date, to: Date): { name: string; query: AuditStatsQuery }[] {
  const filter = { from, to };
  const query = (groupBy: AuditStatsKey[], bucket: AuditStatsBucketSize | null, first: number, order: AuditStatsOrder = AuditStatsOrder.COUNT_DESC, extra = {}) =>
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
  const [row] = await sql<{ hourly: number; daily: number; users: number }[]>`
    select (select count(*)::int from audit_stats_hourly) as hourly, (select count(*)::int from audit_stats_daily) as daily,
           (select count(*)::int from audit_stats_user_daily) as users`;
  const rows = (count: number) => count.toLocaleString('en-US');
  return `rows: hourly ${rows(row!.hourly)}, daily ${rows(row!.daily)}, per user and day ${rows(row!.users)}`;
}
