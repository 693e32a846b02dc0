import { and, arrayContains, asc, desc, eq, getTableColumns, gte, inArray, lt, or, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { unionAll } from 'drizzle-orm/pg-core';
import { resourceOfGlobalId } from '../api/global-id';
import type { PageRequest } from '../api/page';
import { auditLogs, auditRowHashes, type AuditLogRow } from '../audit';
import { InvalidInput } from '../core/errors';
import { keysetPage, type KeysetPage, type Total } from '../core/keyset-page';
import type { Db } from '../db/database';
import type { AuditLogFilter } from './audit-log.inputs';

/** Where `totalCount` stops counting: a page of the trail never waits for more than this many rows. */
export const COUNT_CAP = 10_000;

/** Read side of the trail, for admins and dashboards; only the audit module writes rows. */
export class AuditLogService {
  constructor(private readonly db: Db) {}

  async findById(id: bigint): Promise<AuditLogRow | undefined> {
    const [row] = await this.db.select().from(auditLogs).where(eq(auditLogs.id, id));
    return row;
  }

  /**
   * Newest first by (occurred_at, id). The cursor holds only the id; the keyset is read back
   * from that row, so microsecond timestamps survive and rows can never move (the table is
   * append-only).
   */
  async list(filter: AuditLogFilter | null | undefined, page: PageRequest): Promise<KeysetPage<AuditLogRow>> {
    const rows = await this.pageQuery(filter, page);
    const where = and(...conditionsFor(filter), or(...resourceMatches(filter)));
    return keysetPage(rows, page.first, () => this.cappedCount(where));
  }

  /**
   * Sealed rows in seal order (seal, then id), oldest seal first. Rows join the order only as their
   * seal commits, always behind every row sealed before, so paging by `after` sees each row once.
   */
  async listSealed(filter: AuditLogFilter | null | undefined, { first, afterId }: PageRequest): Promise<KeysetPage<AuditLogRow>> {
    let keyset: SQL | undefined;
    if (afterId !== undefined) {
      const [cursor] = await this.db.select({ seal: auditRowHashes.seal }).from(auditRowHashes).where(eq(auditRowHashes.id, afterId));
      if (!cursor) throw new InvalidInput('after', 'is not the cursor of a sealed row: SEALED_ASC continues only from its own pages');
      keyset = sql`(${auditRowHashes.seal}, ${auditRowHashes.id}) > (${cursor.seal}, ${afterId})`;
    }
    const where = and(...conditionsFor(filter), or(...resourceMatches(filter)));
    const sealed = () => this.db.select(getTableColumns(auditLogs)).from(auditLogs).innerJoin(auditRowHashes, eq(auditRowHashes.id, auditLogs.id));
    const rows = await sealed()
      .where(and(where, keyset))
      .orderBy(asc(auditRowHashes.seal), asc(auditRowHashes.id))
      .limit(first + 1);
    return keysetPage(rows, first, async () => {
      const matching = sealed().where(where).limit(COUNT_CAP + 1).as('matching');
      const [row] = await this.db.select({ count: sql<number>`count(*)::int` }).from(matching);
      return { count: Math.min(row!.count, COUNT_CAP), exact: row!.count <= COUNT_CAP };
    });
  }

  /**
   * How many rows match, counting no further than {@link COUNT_CAP}: an exact count reads every
   * matching index entry (1.4 s for the whole trail at 10M rows), a capped one at most the cap's.
   */
  private async cappedCount(where: SQL | undefined): Promise<Total> {
    const matching = this.db.select({ one: sql`1` }).from(auditLogs).where(where).limit(COUNT_CAP + 1).as('matching');
    const [row] = await this.db.select({ count: sql<number>`count(*)::int` }).from(matching);
    const count = row!.count;
    return { count: Math.min(count, COUNT_CAP), exact: count <= COUNT_CAP };
  }

  /**
   * The statement behind one page of {@link list} (`limit first + 1`), as the index test EXPLAINs it.
   * A record is named alone (`resource_id`) or listed among others (`resource_ids`); each way has
   * its own index, so the page is the newest of two pages. The listed rows are first found by
   * their GIN index and then sorted (`offset 0` keeps the planner from walking the time index
   * instead, hoping to meet a match soon: for a record nobody accessed, that reads every row).
   */
  pageQuery(filter: AuditLogFilter | null | undefined, { first, afterId }: PageRequest) {
    const keyset =
      afterId === undefined
        ? undefined
        : sql`(${auditLogs.occurredAt}, ${auditLogs.id}) < (select a.occurred_at, a.id from ${auditLogs} a where a.id = ${afterId})`;
    const matching = (match?: SQL) => this.db.select().from(auditLogs).where(and(...conditionsFor(filter), match, keyset));
    const [named, listed] = resourceMatches(filter);
    if (!named || !listed) return matching().orderBy(...newestFirst(auditLogs)).limit(first + 1);
    const listedRows = matching(listed).offset(OFFSET_ZERO).as('listed');
    return unionAll(
      matching(named).orderBy(...newestFirst(auditLogs)).limit(first + 1),
      this.db.select().from(listedRows).orderBy(...newestFirst(listedRows)).limit(first + 1),
    )
      .orderBy(...newestFirst(auditLogs))
      .limit(first + 1);
  }
}

/**
 * `OFFSET 0`, PostgreSQL's fence that keeps a subquery from being merged into its parent. Drizzle
 * leaves out an offset of the number 0, so it is given as SQL.
 */
const OFFSET_ZERO = sql`0` as unknown as number;

const newestFirst = (rows: { occurredAt: AnyColumn; id: AnyColumn }) => [desc(rows.occurredAt), desc(rows.id)] as const;

/**
 * The two ways a row can be about the filter's record, or none without a `resourceId`. The global
 * id names the record's type as well as its key: rows store both, and keys repeat across types.
 */
function resourceMatches(filter: AuditLogFilter | null | undefined): SQL[] {
  if (filter?.resourceId == null) return [];
  const { resourceType, key } = resourceOfGlobalId(filter.resourceId, 'filter.resourceId');
  const ofType = eq(auditLogs.resourceType, resourceType);
  return [
    and(ofType, eq(auditLogs.resourceId, key))!,
    // Repeats the GIN index's predicate, so the planner can use that partial index.
    and(ofType, sql`cardinality(${auditLogs.resourceIds}) > 0`, arrayContains(auditLogs.resourceIds, [key]))!,
  ];
}

/** Rejects filters that cannot mean what the caller intended, then turns the rest into SQL. */
function conditionsFor(filter: AuditLogFilter | null | undefined): (SQL | undefined)[] {
  if (!filter) return [];
  if (filter.actions && filter.actions.length === 0) {
    throw new InvalidInput('filter.actions', 'must list at least one action (omit it to match all)');
  }
  if (filter.from && filter.to && filter.from >= filter.to) {
    throw new InvalidInput('filter.to', 'must be later than filter.from');
  }
  const equal = <T>(column: Parameters<typeof eq>[0], value: T | null | undefined) =>
    value === null || value === undefined ? undefined : eq(column, value);
  return [
    equal(auditLogs.userId, filter.userId),
    equal(auditLogs.action, filter.action),
    filter.actions ? inArray(auditLogs.action, filter.actions) : undefined,
    equal(auditLogs.resourceType, filter.resourceType),
    equal(auditLogs.outcome, filter.outcome),
    equal(auditLogs.adminBypass, filter.adminBypass),
    equal(auditLogs.requestId, filter.requestId),
    filter.from ? gte(auditLogs.occurredAt, filter.from) : undefined,
    filter.to ? lt(auditLogs.occurredAt, filter.to) : undefined,
  ];
}
