import type postgres from 'postgres';
import { SEALED_HORIZON_SQL } from './chain-store';

/*
 * The rollups `auditStats` reads, checked by `verifyTrail` against a recount of the sealed rows
 * (docs/integrity.md, Rollups): the recount query, and what verify says of a bad bucket.
 */

/** A rollup `auditStats` reads, and the recount (a CTE of {@link rollupRecount}) it is compared with. */
interface Rollup {
  readonly table: 'audit_stats_hourly' | 'audit_stats_daily' | 'audit_stats_user_daily';
  readonly recount: 'hourly' | 'daily' | 'user_daily';
  /** Its key after `bucket_start`, in the order of its unique key. */
  readonly key: readonly string[];
}

const ROLLUP_KEY = ['action', 'outcome', 'user_role', 'resource_type', 'admin_bypass', 'access_reason'];

/** In the order they are compared: the first bad bucket of the first table with one is reported. */
const ROLLUPS: readonly Rollup[] = [
  { table: 'audit_stats_hourly', recount: 'hourly', key: ROLLUP_KEY },
  { table: 'audit_stats_daily', recount: 'daily', key: ROLLUP_KEY },
  { table: 'audit_stats_user_daily', recount: 'user_daily', key: ['user_id', ...ROLLUP_KEY] },
];

/** A bucket whose stored count differs from the sealed rows' (either may be missing). */
interface BadBucket {
  readonly rollup: number;
  readonly bucket: string;
  readonly key: Record<string, string | boolean | null>;
  readonly stored: string | null;
  readonly recomputed: string | null;
  /** Rows of the table with this bucket and key: 1, or 0 when missing; more only with its unique key dropped. */
  readonly storedRows: number;
}

/**
 * Recomputes the rollups (`audit_stats_hourly`, `_daily`, `_user_daily`) from the sealed rows: the
 * query (it runs once awaited; cancellable) of the first bucket whose stored count differs, is
 * missing or should not be there, none when all hold. The
 * seal trigger counts each seal's window, [from_xact, horizon), so the rollups count exactly the
 * rows below the head's horizon; retention deletes a dropped month's buckets with its rows, so the
 * rows still held are all there is to count. One statement, so one snapshot: a seal committed
 * meanwhile is in both the rows and the tables or in neither.
 *
 * The sealed rows are read once, their key columns kept for two counts: by UTC hour (the daily
 * rollup is summed from it) and by UTC day and user (counting by hour and user first would make
 * about a group a row on a busy trail). `date_bin` from the Unix epoch gives the hours and days
 * the trigger's `date_trunc(…, 'UTC')` does, without a time zone lookup per row. Each table and
 * its recount are then grouped together on the table's key, which is a full join that matches
 * nulls as its `NULLS NOT DISTINCT` unique key does, without sorting either side.
 */
export function rollupRecount(sql: postgres.Sql): postgres.PendingQuery<BadBucket[]> {
  const origin = `timestamptz '1970-01-01 00:00:00+00'`;
  const groupBy = (columns: number) => Array.from({ length: columns }, (_, index) => index + 1).join(', ');
  const comparisons = ROLLUPS.map((rollup, index) => {
    const columns = ['bucket_start', ...rollup.key].join(', ');
    return `(select ${index} as rollup, to_char(bucket_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as bucket,
                    json_build_object(${rollup.key.map((column) => `'${column}', ${column}`).join(', ')}) as key,
                    sum(stored)::text as stored, sum(recomputed)::text as recomputed, count(stored)::int as "storedRows"
             from (select ${columns}, count as stored, null::bigint as recomputed from ${rollup.table}
                   union all
                   select ${columns}, null, count from ${rollup.recount}) both_sides
             group by ${columns}
             having count(stored) <> 1 or sum(stored) is distinct from sum(recomputed)
             order by ${columns}
             limit 1)`;
  });
  return sql.unsafe<BadBucket[]>(
    `with sealed as materialized (
       select occurred_at, user_id, action, outcome, user_role, resource_type, admin_bypass, access_reason from audit_logs
       where xact_id < ${SEALED_HORIZON_SQL}
     ), hourly as materialized (
       select date_bin('1 hour', occurred_at, ${origin}) as bucket_start, ${ROLLUP_KEY.join(', ')}, count(*) as count
       from sealed group by ${groupBy(1 + ROLLUP_KEY.length)}
     ), daily as (
       select date_bin('1 day', bucket_start, ${origin}) as bucket_start, ${ROLLUP_KEY.join(', ')}, sum(count) as count
       from hourly group by ${groupBy(1 + ROLLUP_KEY.length)}
     ), user_daily as (
       select date_bin('1 day', occurred_at, ${origin}) as bucket_start, user_id, ${ROLLUP_KEY.join(', ')}, count(*) as count
       from sealed group by ${groupBy(2 + ROLLUP_KEY.length)}
     )
     select * from (${comparisons.join(' union all ')}) bad order by rollup limit 1`,
  );
}

/** What verify says of a bad bucket: the rollup, the bucket and its key, and both counts. */
export function rollupFault(bad: BadBucket): string {
  const key = Object.entries(bad.key)
    .map(([column, value]) => `${column} ${JSON.stringify(value)}`)
    .join(', ');
  const what =
    bad.storedRows > 1
      ? `it is stored in ${bad.storedRows} rows, counting ${bad.stored} in all, but the sealed rows count ${bad.recomputed ?? 0}: a row was inserted`
      : bad.stored === null
        ? `it has no row, but the sealed rows count ${bad.recomputed}: the row was deleted`
        : bad.recomputed === null
          ? `it stores count ${bad.stored}, but no sealed row falls in it: the row was inserted`
          : `it stores count ${bad.stored}, but the sealed rows count ${bad.recomputed}: the count was changed`;
  return `rollup ${ROLLUPS[bad.rollup]!.table}, bucket ${bad.bucket} (${key}): ${what}`;
}
