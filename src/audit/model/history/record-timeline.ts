import { and, arrayContains, asc, eq, getTableColumns, gte, inArray, or, sql, type InferSelectModel, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db, DbExecutor } from '../../../db/database';
import { auditLogs } from '../../storage/audit-log.table';
import type { AuditedResource } from '../audited-resource';
import { WITHHELD } from '../record-snapshot';
import { versionEntryOf, versionKindsOf, type Snapshot, type VersionEntry } from './record-version';
import { Replayed, Timeline } from './timeline';
import { versionCacheOf, type VersionCache } from './version-cache';

/** A record's timeline and its live row (undefined: it does not exist now), read at one instant. */
export interface RecordTimeline<T extends PgTable> {
  readonly live: InferSelectModel<T> | undefined;
  readonly timeline: Timeline;
}

/**
 * Reads the record's live row and its versions in one snapshot of the database (a read-only
 * repeatable-read transaction), so that a change committing meanwhile is seen in both or neither:
 * a change and its row commit together, and the timeline checks one against the other.
 */
export function readRecordTimeline<T extends PgTable>(db: Db, resource: AuditedResource<T>, id: unknown): Promise<RecordTimeline<T>> {
  return db.transaction((tx) => recordTimelineIn(db, tx, resource, id), { isolationLevel: 'repeatable read', accessMode: 'read only' });
}

/**
 * The record's timeline as `tx` (a transaction of `db`) sees it, with its live row; `lock` locks
 * that row until `tx` ends, first, so that no change of it commits between reading it and reading
 * its versions.
 */
export async function recordTimelineIn<T extends PgTable>(
  db: Db,
  tx: DbExecutor,
  resource: AuditedResource<T>,
  id: unknown,
  lock = false,
): Promise<RecordTimeline<T>> {
  const idColumn = getTableColumns(resource.table)[resource.idField] as PgColumn;
  const select = tx.select().from(resource.table as PgTable).where(eq(idColumn, id));
  const [live] = (await (lock ? select.for('update') : select)) as InferSelectModel<T>[];
  const replayed = await replayedVersionsOf(versionCacheOf(db), tx, resource, String(id));
  return { live, timeline: Timeline.of(replayed, live === undefined ? undefined : resource.snapshot(live)) };
}

/**
 * Every version of the record, in the order they were made, replayed: those `cache` keeps and
 * those written since, if the first and last kept are both in `tx`'s view of the trail (the first
 * is gone once retention dropped its month; the last not yet there for a transaction that started
 * before another request kept it); or all of them, read afresh. One statement reads both ends and
 * what follows them.
 */
async function replayedVersionsOf(cache: VersionCache, tx: DbExecutor, resource: AuditedResource, id: string): Promise<Replayed> {
  const key = `${resource.type}:${id}`;
  const kept = cache.get(key);
  if (kept) {
    const first = kept.versions[0]!.id;
    const last = kept.versions.at(-1)!.id;
    const read = await versionsOf(tx, resource, id, or(eq(auditLogs.id, first), gte(auditLogs.id, last)));
    if (read[0]?.id === first && read.some((version) => version.id === last)) {
      const since = read.filter((version) => version.id > last);
      if (since.length === 0) return kept;
      const replayed = kept.extend(since);
      cache.set(key, replayed);
      return replayed;
    }
  }
  const replayed = Replayed.of(await versionsOf(tx, resource, id), { id: resource.idField, owner: resource.ownerField, recorded: resource.fields });
  cache.set(key, replayed);
  return replayed;
}

/**
 * The versions of the record (those `among` selects, or all), in the order they were made: the
 * `success` rows of its create, update, delete and restore actions that name it, alone
 * (`resource_id`, served by the trail's resource index) or among others (`resource_ids`, its GIN
 * index; such a row keeps each record's part in `details.byRecord`). Only that part is read.
 */
async function versionsOf(tx: DbExecutor, resource: AuditedResource, id: string, among?: SQL): Promise<VersionEntry[]> {
  const kinds = versionKindsOf(resource);
  const rows = await tx
    .select({
      id: auditLogs.id,
      occurredAt: auditLogs.occurredAt,
      action: auditLogs.action,
      userId: auditLogs.userId,
      ownerIds: auditLogs.ownerIds,
      change: sql<Record<string, unknown> | null>`case when ${auditLogs.resourceId} is null then ${auditLogs.details} -> 'byRecord' -> ${id}::text else ${auditLogs.details} end`,
      database: sql<Record<string, unknown> | null>`${auditLogs.details} -> 'database'`,
    })
    .from(auditLogs)
    .where(
      and(
        eq(auditLogs.outcome, 'success'),
        eq(auditLogs.resourceType, resource.type),
        inArray(auditLogs.action, [...kinds.keys()]),
        or(eq(auditLogs.resourceId, id), and(sql`cardinality(${auditLogs.resourceIds}) > 0`, arrayContains(auditLogs.resourceIds, [id]))),
        among,
      ),
    )
    .orderBy(asc(auditLogs.id));
  return rows.map((row) => versionEntryOf(row, (action) => kinds.get(action), resource.fields.snapshot));
}

/**
 * A snapshot as the record's own values: timestamps and bigints, which snapshots keep as strings,
 * decoded by their columns; withheld values stay {@link WITHHELD}, ignored fields absent.
 */
export function recordOf<T extends PgTable>(resource: AuditedResource<T>, snapshot: Snapshot): InferSelectModel<T> {
  const columns = getTableColumns(resource.table) as Record<string, PgColumn>;
  const record: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(snapshot)) {
    const column = columns[field];
    const encoded = column && typeof value === 'string' && value !== WITHHELD && (column.dataType === 'date' || column.dataType === 'bigint');
    record[field] = encoded ? column.mapFromDriverValue(value) : value;
  }
  return record as InferSelectModel<T>;
}
