import { and, asc, desc, eq, getTableColumns, or, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { unionAll } from 'drizzle-orm/pg-core';
import type { PageRequest } from '../../api/page';
import { auditLogs, auditRowHashes, type AuditLogRow } from '../../audit/operations';
import { InvalidInput } from '../../core/errors';
import { keysetPage, type KeysetPage } from '../../core/keyset-page';
import type { Db } from '../../db/database';
import type { AuditLogFilter } from './audit-log.inputs';
import { conditionsFor, ownerMatches, resourceMatches } from './audit-log.conditions';
import { AuditLogOrder } from './audit-log.order';

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
   * In `order`: by (occurred_at, id), newest first by default. The cursor holds only the id; the
   * keyset is read back from that row, so microsecond timestamps survive and rows can never move
   * (the table is append-only).
   */
  async list(filter: AuditLogFilter | null | undefined, page: PageRequest, order: TimeOrder = AuditLogOrder.NEWEST_FIRST): Promise<KeysetPage<AuditLogRow>> {
    const rows = await this.pageQuery(filter, page, order);
    return keysetPage(rows, page.first, async () => {
      const [row] = await this.countQuery(filter);
      return { count: Math.min(row!.count, COUNT_CAP), exact: row!.count <= COUNT_CAP };
    });
  }

  /** The last row of the seal order so far (the newest seal's highest id); undefined before the first seal. */
  async lastSealedId(): Promise<bigint | undefined> {
    const [last] = await this.db
      .select({ id: auditRowHashes.id })
      .from(auditRowHashes)
      .orderBy(desc(auditRowHashes.seal), desc(auditRowHashes.id))
      .limit(1);
    return last?.id;
  }

  /**
   * Sealed rows in seal order (seal, then id), oldest seal first. Rows join the order only as their
   * seal commits, always behind every row sealed before, so paging by `after` sees each row once.
   */
  async listSealed(filter: AuditLogFilter | null | undefined, { first, afterId }: PageRequest): Promise<KeysetPage<AuditLogRow>> {
    let keyset: SQL | undefined;
    if (afterId !== undefined) {
      const cursor = await this.sealedPosition(afterId);
      keyset = sql`(${auditRowHashes.seal}, ${auditRowHashes.id}) > (${cursor.seal}, ${afterId})`;
    }
    const where = and(...conditionsFor(filter), or(...resourceMatches(filter)), or(...ownerMatches(filter)));
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

  /** Where the sealed row `id` stands in the seal order; {@link InvalidInput} on `after` when it is not sealed. */
  async sealedPosition(id: bigint): Promise<{ seal: number; id: bigint }> {
    const [cursor] = await this.db.select({ seal: auditRowHashes.seal }).from(auditRowHashes).where(eq(auditRowHashes.id, id));
    if (!cursor) throw new InvalidInput('after', 'is not the cursor of a sealed row: SEALED_ASC continues only from its own pages');
    return { seal: Number(cursor.seal), id };
  }

  /**
   * How many rows match, counting no further than one past {@link COUNT_CAP}: an exact count reads
   * every matching index entry (1.4 s for the whole trail at 10M rows), a capped one at most the cap's.
   */
  countQuery(filter: AuditLogFilter | null | undefined) {
    const where = and(...conditionsFor(filter), or(...resourceMatches(filter)), or(...ownerMatches(filter)));
    const matching = this.db.select({ one: sql`1` }).from(auditLogs).where(where).limit(COUNT_CAP + 1).as('matching');
    return this.db.select({ count: sql<number>`count(*)::int` }).from(matching);
  }

  /**
   * The statement behind one page of {@link list} (`limit first + 1`), as the index test EXPLAINs it.
   * Each branch reads one index in `order` (newest first by default) and stops after a page; the
   * page is the first rows of all branches in that order. A record is named alone (`resource_id`)
   * or listed among others (`resource_ids`), and an owner likewise (`owner_ids` of one or several),
   * each way with its own index. The listed rows are first found by their GIN index and then sorted
   * (`offset 0` keeps the planner from walking the time index instead, hoping to meet a match soon:
   * for a record nobody accessed, that reads every row). Several actions are one branch each
   * ({@link oneBranchPerAction}).
   */
  pageQuery(filter: AuditLogFilter | null | undefined, { first, afterId }: PageRequest, order: TimeOrder = AuditLogOrder.NEWEST_FIRST) {
    const { sort, after } = ORDERS[order];
    const inOrder = (rows: { occurredAt: AnyColumn; id: AnyColumn }) => [sort(rows.occurredAt), sort(rows.id)] as const;
    const keyset =
      afterId === undefined
        ? undefined
        : sql`(${auditLogs.occurredAt}, ${auditLogs.id}) ${after} (select a.occurred_at, a.id from ${auditLogs} a where a.id = ${afterId})`;
    const actions = oneBranchPerAction(filter);
    // An owner's rows are branches of their own, unless the record's branches are.
    const owner = filter?.resourceId == null ? undefined : or(...ownerMatches(filter));
    const shared = [...conditionsFor(filter, { actions: !actions }), owner];
    const matching = (match?: SQL) => this.db.select().from(auditLogs).where(and(...shared, match, keyset));
    const firstInOrder = (match?: SQL) => matching(match).orderBy(...inOrder(auditLogs)).limit(first + 1);
    /** One branch read in order, one found unordered (GIN) and sorted, merged. */
    const orderedAndSorted = (ordered: SQL, sorted: SQL) => {
      const sortedRows = matching(sorted).offset(OFFSET_ZERO).as('sorted');
      return unionAll(firstInOrder(ordered), this.db.select().from(sortedRows).orderBy(...inOrder(sortedRows)).limit(first + 1))
        .orderBy(...inOrder(auditLogs))
        .limit(first + 1);
    };
    const [named, listed] = resourceMatches(filter);
    if (named && listed) return orderedAndSorted(named, listed);
    const [ownerAlone, ownerAmong] = ownerMatches(filter);
    if (ownerAlone && ownerAmong) return orderedAndSorted(ownerAlone, ownerAmong);
    if (actions) {
      const [one, two, ...rest] = actions.map((action) => firstInOrder(eq(auditLogs.action, action)));
      return unionAll(one!, two!, ...rest)
        .orderBy(...inOrder(auditLogs))
        .limit(first + 1);
    }
    return firstInOrder();
  }
}

/** The orders by time; seal order is {@link AuditLogService.listSealed}'s. */
export type TimeOrder = typeof AuditLogOrder.NEWEST_FIRST | typeof AuditLogOrder.OLDEST_FIRST;

/**
 * How each order reads the trail: the direction of (occurred_at, id), and how a later page's rows
 * compare with the cursor's row. Every btree index of the trail ends in (occurred_at, id), scanned either way.
 */
const ORDERS: Record<TimeOrder, { sort: typeof asc; after: SQL }> = {
  [AuditLogOrder.NEWEST_FIRST]: { sort: desc, after: sql`<` },
  [AuditLogOrder.OLDEST_FIRST]: { sort: asc, after: sql`>` },
};


/**
 * The distinct actions of an `actions` filter listing several, when the page reads one branch per
 * action: `action in (…)` read from one index comes out ordered by action first, so the page would
 * sort every match. With a `resourceId` or an `ownerId` the rows are found by GIN and sorted anyway.
 */
function oneBranchPerAction(filter: AuditLogFilter | null | undefined): string[] | undefined {
  const actions = [...new Set(filter?.actions ?? [])];
  return actions.length > 1 && filter?.resourceId == null && filter?.ownerId == null ? actions : undefined;
}

/**
 * `OFFSET 0`, PostgreSQL's fence that keeps a subquery from being merged into its parent. Drizzle
 * leaves out an offset of the number 0, so it is given as SQL.
 */
const OFFSET_ZERO = sql`0` as unknown as number;
