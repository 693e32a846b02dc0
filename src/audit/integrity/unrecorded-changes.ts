import { getTableColumns, getTableName } from 'drizzle-orm';
import { getTableConfig, type PgColumn } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import type { AuditedResource } from '../model/audited-resource';
import { versionEntryOf, versionKindsOf, type VersionKind, type VersionRow } from '../model/history/record-version';
import { Replayed } from '../model/history/timeline';

/**
 * The check of the trail against the records it is about: each audited record's live row must be
 * what its versions in the trail (the API's rows and the database backstop's) last made it. What
 * the backstop cannot see — a change by the owner or a superuser with its triggers switched off
 * and back on, which leaves nothing in the catalog — shows here as a record the trail does not
 * account for (docs/audit-trail.md, What is and is not caught).
 */

/** A record whose live row the trail does not account for, and how. */
export interface UnrecordedChange {
  readonly type: string;
  readonly id: string;
  readonly reason: string;
}

export interface RecordsCheck {
  /** Live records and records the trail holds versions of, checked. */
  readonly records: number;
  /** The record found unaccounted for first (of the first resource, the lowest id), if any. */
  readonly first: UnrecordedChange | undefined;
  /** How many records were found so, the first included. */
  readonly unaccounted: number;
}

/** One record as the check reads it: its versions (none: the trail holds none), its live row (null columns and no `live_id`: it does not exist). */
interface RecordRow {
  readonly record: string | null;
  readonly versions: readonly VersionJson[] | null;
  readonly live_id: string | null;
  readonly [column: `c${number}`]: unknown;
}

/** A version as the statement's JSON carries it: its instant as text. */
type VersionJson = Omit<VersionRow, 'occurredAt'> & { readonly occurredAt: string };

const byId = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** Records read per round trip: each brings its versions, so memory holds a few hundred histories. */
const RECORDS_PER_FETCH = 500;

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * An expression: the 64-bit transaction id (`xid8`, as `bigint`) of a 32-bit `xid` column, read as
 * the latest transaction with those low bits that is not in the future — exact for any row written
 * within the last 2^31 transactions, which PostgreSQL's wraparound protection keeps live rows to.
 */
const fullXid = (xid: string) => `(x.next - ((x.next - ${xid}::text::bigint) & 4294967295))`;

/**
 * Checks every record of `resources` against its versions in the trail: one statement per resource
 * joins the versions, grouped by record, to the live rows, read in fetches of a few hundred. A
 * record is unaccounted for when
 * - its live row differs from the state its last version left (a field the versions track, or its
 *   existence: deleted, or inserted again, unrecorded);
 * - its versions disagree with one another (a change between two of them is missing);
 * - it has no version at all, though it was written after the trail's first row and after the
 *   newest transaction whose rows retention removed (`retainedBefore`, an `xid8` as decimal text:
 *   every row of an older transaction may be gone, so an older record is not expected to have one).
 *   Both bounds are sealed facts; anything the owner could rewrite (the catalog, the migrations'
 *   journal) would let whoever inserted unrecorded move the bound past the insert.
 * A history cut by retention (its first kept version an update) is checked from where it can be.
 */
export async function checkRecordsAgainstTrail(sql: postgres.Sql, resources: readonly AuditedResource[], retainedBefore: string): Promise<RecordsCheck> {
  let records = 0;
  let unaccounted = 0;
  let first: UnrecordedChange | undefined;
  for (const resource of resources) {
    const columns = Object.entries(getTableColumns(resource.table) as Record<string, PgColumn>);
    const kinds = versionKindsOf(resource);
    const rows = sql.unsafe<RecordRow[]>(recordsSql(resource, columns), [resource.type, [...kinds.keys()], retainedBefore]).cursor(RECORDS_PER_FETCH);
    for await (const batch of rows) {
      for (const row of batch) {
        records += 1;
        const reason = reasonOf(resource, row, columns, kinds);
        if (reason === undefined) continue;
        unaccounted += 1;
        const id = row.record ?? row.live_id!;
        // The rows come in no useful order; the lowest id is named, so that a second run names the same.
        if (!first || (first.type === resource.type && byId(id, first.id) < 0)) first = { type: resource.type, id, reason };
      }
    }
  }
  return { records, first, unaccounted };
}

/** A table's columns by field (its TypeScript key), in declaration order. */
type FieldColumns = readonly (readonly [string, PgColumn])[];

function recordsSql(resource: AuditedResource, columns: FieldColumns): string {
  const { schema } = getTableConfig(resource.table);
  const name = getTableName(resource.table);
  const table = schema ? `${quoted(schema)}.${quoted(name)}` : quoted(name);
  const id = `t.${quoted(getTableColumns(resource.table)[resource.idField]!.name)}`;
  return `
    with x as (select pg_snapshot_xmax(pg_current_snapshot())::text::bigint as next),
    since as (
      select greatest($3::text::bigint, coalesce((select min(xact_id)::text::bigint from audit_logs where xact_id > '1'::xid8), 0)) as xact
    ),
    versions as (
      select v.record, json_agg(json_build_object(
               'id', v.id::text, 'occurredAt', v.occurred_at, 'action', v.action, 'userId', v.user_id,
               'ownerIds', v.owner_ids, 'change', v.change, 'database', v.database) order by v.id) as versions
      from (
        select coalesce(l.resource_id, r.record) as record, l.id, l.occurred_at, l.action, l.user_id, l.owner_ids,
               case when l.resource_id is null then r.change else l.details end as change,
               l.details -> 'database' as database
        from audit_logs l
        -- A bulk row's parts in one pass (looking each id up in byRecord would read it once per id).
        left join lateral jsonb_each(case when l.resource_id is null then l.details -> 'byRecord' end) as r(record, change) on true
        where l.outcome = 'success' and l.resource_type = $1 and l.action = any($2::text[])
      ) v
      where v.record is not null
      group by v.record
    )
    select v.record, v.versions, ${id}::text as live_id,
           ${columns.map(([, column], index) => `t.${quoted(column.name)} as c${index}`).join(', ')}
    from versions v
    full join ${table} t on ${id}::text = v.record
    cross join x cross join since
    where v.record is not null or ${fullXid('t.xmin')} >= since.xact`;
}

/** Why `row`'s record is unaccounted for, or undefined when the trail accounts for it. */
function reasonOf(
  resource: AuditedResource,
  row: RecordRow,
  columns: FieldColumns,
  kinds: ReadonlyMap<string, VersionKind>,
): string | undefined {
  if (row.versions === null) return `the trail holds no change of this ${resource.type}, which was written after the trail began`;
  const versions = row.versions.map((version) =>
    versionEntryOf({ ...version, occurredAt: new Date(version.occurredAt) }, (action) => kinds.get(action), resource.fields.snapshot),
  );
  const replayed = Replayed.of(versions, { id: resource.idField, owner: resource.ownerField, recorded: resource.fields });
  if (replayed.disagree) return 'its versions in the trail disagree with one another: a change between two of them is not in the trail';
  const live = row.live_id === null ? undefined : resource.snapshot(liveRecordOf(row, columns));
  const disagreement = replayed.liveDisagreement(live);
  if (disagreement === undefined) return undefined;
  if (disagreement === 'existence') {
    return live === undefined ? 'it was deleted, but the trail holds no deletion of it' : 'it exists, but the trail last recorded its deletion';
  }
  return `its ${disagreement.join(', ')} differ${disagreement.length === 1 ? 's' : ''} from what the trail last recorded`;
}

/** The live row's columns, decoded as Drizzle decodes them, by field. */
function liveRecordOf(row: RecordRow, columns: FieldColumns): never {
  const record: Record<string, unknown> = {};
  columns.forEach(([field, column], index) => {
    const value = row[`c${index}`];
    record[field] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  });
  return record as never;
}
