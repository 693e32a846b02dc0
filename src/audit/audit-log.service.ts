import { and, desc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/database';
import { badUserInput } from '../graphql/errors';
import { parseBigintId } from '../graphql/ids';
import { decodeCursor, keysetPage, type Page } from '../graphql/pagination';
import type { AuditLogFilter } from './audit-log.inputs';
import { auditLogs, type AuditLogRow } from './audit-log.table';

const CURSOR_KIND = 'audit';

/** Read side of the trail, for admins and dashboards; rows are written only by `audit.writer`. */
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
  async list(filter: AuditLogFilter | null | undefined, first: number, after?: string | null): Promise<Page<AuditLogRow>> {
    const where = and(...conditionsFor(filter));
    const afterId = after == null ? undefined : parseBigintId(decodeCursor(CURSOR_KIND, after), 'after');
    const keyset =
      afterId === undefined
        ? undefined
        : sql`(${auditLogs.occurredAt}, ${auditLogs.id}) < (select a.occurred_at, a.id from ${auditLogs} a where a.id = ${afterId})`;
    const rows = await this.db
      .select()
      .from(auditLogs)
      .where(and(where, keyset))
      .orderBy(desc(auditLogs.occurredAt), desc(auditLogs.id))
      .limit(first + 1);
    return keysetPage(rows, first, CURSOR_KIND, () => this.db.$count(auditLogs, where));
  }
}

/** Rejects filters that cannot mean what the caller intended, then turns the rest into SQL. */
function conditionsFor(filter: AuditLogFilter | null | undefined): (SQL | undefined)[] {
  if (!filter) return [];
  if (filter.actions && filter.actions.length === 0) {
    throw badUserInput('filter.actions', 'must list at least one action (omit it to match all)');
  }
  if (filter.from && filter.to && filter.from >= filter.to) {
    throw badUserInput('filter.to', 'must be later than filter.from');
  }
  const equal = <T>(column: Parameters<typeof eq>[0], value: T | null | undefined) =>
    value === null || value === undefined ? undefined : eq(column, value);
  return [
    equal(auditLogs.userId, filter.userId),
    equal(auditLogs.action, filter.action),
    filter.actions ? inArray(auditLogs.action, filter.actions) : undefined,
    equal(auditLogs.resourceType, filter.resourceType),
    equal(auditLogs.resourceId, filter.resourceId),
    equal(auditLogs.outcome, filter.outcome),
    equal(auditLogs.adminBypass, filter.adminBypass),
    equal(auditLogs.requestId, filter.requestId),
    filter.from ? gte(auditLogs.occurredAt, filter.from) : undefined,
    filter.to ? lt(auditLogs.occurredAt, filter.to) : undefined,
  ];
}
