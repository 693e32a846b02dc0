import { and, asc, desc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { auditStatsDaily, auditStatsHourly, auditStatsUserDaily, type AuditActionRegistry } from '../../audit/operations';
import { InvalidInput } from '../../core/errors';
import type { Db } from '../../db/database';
import type { AuditLogFilter } from '../query/audit-log.inputs';
import { AUDIT_STATS_MAX_BUCKETS } from './audit-stats.inputs';
import { AuditStatsBucketSize, AuditStatsKey, AuditStatsOrder, type AuditStats, type AuditStatsKeys } from './audit-stats.type';

export interface AuditStatsQuery {
  readonly filter?: AuditLogFilter | null;
  readonly groupBy: readonly AuditStatsKey[];
  readonly bucket?: AuditStatsBucketSize | null;
  readonly first: number | null;
  readonly order: AuditStatsOrder;
}

/**
 * The filter fields the rollups keep. Any other (a record, a request, an address…) would need the
 * trail itself, so it is refused rather than ignored — fields added to the filter later included.
 */
const COUNTABLE_FILTER_FIELDS = new Set(['userId', 'action', 'actions', 'resourceType', 'outcome', 'adminBypass', 'accessReason', 'from', 'to']);

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Counts of sealed audit rows from the rollups the seals keep (never the trail): per user and day
 * when the query groups or filters by `userId`; otherwise per day when its buckets are days (or
 * none) and its range whole days, else per hour.
 */
export class AuditStatsService {
  constructor(
    private readonly db: Db,
    /** The actions the server records: a filter naming another is refused. */
    private readonly actions: AuditActionRegistry,
  ) {}

  async stats(query: AuditStatsQuery): Promise<AuditStats> {
    const first = checkedFirst(query.first);
    const filter = query.filter ?? {};
    checkFilter(filter, this.actions);
    const groupBy = [...new Set(query.groupBy)];
    const byUser = groupBy.includes(AuditStatsKey.USER_ID) || filter.userId != null;
    if (byUser && query.bucket === AuditStatsBucketSize.HOUR) {
      throw new InvalidInput('bucket', 'must be DAY or omitted with userId: counts per user are kept per day');
    }
    const wholeDays = [filter.from, filter.to].every((bound) => !bound || bound.getTime() % DAY_MS === 0);
    // The smallest rollup that answers: per user only when asked, per day whenever the range allows.
    const table = byUser
      ? auditStatsUserDaily
      : query.bucket === AuditStatsBucketSize.HOUR || !wholeDays
        ? auditStatsHourly
        : auditStatsDaily;
    const unit = byUser ? 'day (with userId)' : 'hour';
    const unitMs = table === auditStatsHourly ? HOUR_MS : DAY_MS;
    for (const [field, value] of [['from', filter.from], ['to', filter.to]] as const) {
      if (value && value.getTime() % unitMs !== 0) {
        throw new InvalidInput(`filter.${field}`, `must be a whole UTC ${unit}: the counts are kept per hour and per day`);
      }
    }

    const keyColumn = (key: AuditStatsKey) => (key === AuditStatsKey.USER_ID ? auditStatsUserDaily.userId : table[key]);
    const count = sql<number>`sum(${table.count})`.mapWith(Number);
    // Literal arguments, not parameters: GROUP BY must repeat the selected expression exactly.
    const bucketStart =
      query.bucket == null
        ? undefined
        : query.bucket === AuditStatsBucketSize.DAY && table === auditStatsHourly
          ? sql<Date>`date_trunc('day', ${table.bucketStart}, 'UTC')`.mapWith(table.bucketStart)
          : table.bucketStart;
    const keys = Object.fromEntries(groupBy.map((key) => [key, keyColumn(key)]));
    const byKeys = groupBy.map((key) => asc(keyColumn(key)));
    const byTime = bucketStart ? [asc(bucketStart)] : [];
    const rows = (await this.db
      .select({ ...keys, ...(bucketStart ? { bucketStart } : {}), count })
      .from(table)
      .where(and(...conditions(filter, table)))
      .groupBy(...(bucketStart ? [bucketStart] : []), ...groupBy.map(keyColumn))
      .having(sql`sum(${table.count}) > 0`)
      .orderBy(...(query.order === AuditStatsOrder.TIME_ASC ? [...byTime, desc(count)] : [desc(count), ...byTime]), ...byKeys)
      .limit(first + 1)) as (Partial<AuditStatsKeys> & { bucketStart?: Date; count: number })[];

    return {
      buckets: rows.slice(0, first).map(({ bucketStart: start, count: rowCount, ...grouped }) => ({
        keys: { action: null, outcome: null, userId: null, userRole: null, resourceType: null, adminBypass: null, accessReason: null, ...grouped },
        bucketStart: start ?? null,
        count: rowCount,
      })),
      hasMore: rows.length > first,
    };
  }
}

function checkedFirst(first: number | null): number {
  if (first === null || !Number.isInteger(first) || first < 1 || first > AUDIT_STATS_MAX_BUCKETS) {
    throw new InvalidInput('first', `must be between 1 and ${AUDIT_STATS_MAX_BUCKETS}`);
  }
  return first;
}

/** Refuses what the rollups cannot count, and actions the trail never records (they would count 0). */
function checkFilter(filter: AuditLogFilter, actions: AuditActionRegistry): void {
  for (const [field, value] of Object.entries(filter)) {
    if (value != null && !COUNTABLE_FILTER_FIELDS.has(field)) {
      throw new InvalidInput(`filter.${field}`, 'cannot be counted by auditStats, which reads counts per hour or day, not rows: use auditLogs');
    }
  }
  const known = new Set(actions.all().map((action) => action.name));
  const unknown = 'is not an action the trail records (see auditActions)';
  if (filter.action != null && !known.has(filter.action)) throw new InvalidInput('filter.action', unknown);
  if (filter.actions) {
    if (filter.actions.length === 0) throw new InvalidInput('filter.actions', 'must list at least one action (omit it to match all)');
    filter.actions.forEach((action, index) => {
      if (!known.has(action)) throw new InvalidInput(`filter.actions[${index}]`, unknown);
    });
  }
  if (filter.from && filter.to && filter.from >= filter.to) throw new InvalidInput('filter.to', 'must be later than filter.from');
}

function conditions(filter: AuditLogFilter, table: typeof auditStatsHourly | typeof auditStatsDaily | typeof auditStatsUserDaily): (SQL | undefined)[] {
  const equal = <T>(column: Parameters<typeof eq>[0], value: T | null | undefined) => (value == null ? undefined : eq(column, value));
  return [
    equal(auditStatsUserDaily.userId, filter.userId),
    equal(table.action, filter.action),
    filter.actions ? inArray(table.action, filter.actions) : undefined,
    equal(table.resourceType, filter.resourceType),
    equal(table.outcome, filter.outcome),
    equal(table.adminBypass, filter.adminBypass),
    equal(table.accessReason, filter.accessReason),
    filter.from ? gte(table.bucketStart, filter.from) : undefined,
    filter.to ? lt(table.bucketStart, filter.to) : undefined,
  ];
}
