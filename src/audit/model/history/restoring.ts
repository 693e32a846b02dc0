import { eq, getTableColumns, type InferSelectModel } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { HistoryIncomplete, InvalidInput, type ClientError } from '../../../core/errors';
import type { DbExecutor } from '../../../db/database';
import type { AuditedResource } from '../audited-resource';
import { WITHHELD } from '../record-snapshot';
import { recordOf } from './record-timeline';
import type { StateAt } from './timeline';

/** What a restore is asked to do, once the caller may change the record. */
export interface RestoreRequest<T extends PgTable> {
  readonly id: unknown;
  /** The record now, locked; undefined when it was deleted since. */
  readonly live: InferSelectModel<T> | undefined;
  /** Its owner now, or when it was deleted: a restore never changes who owns a record. */
  readonly ownerId: string;
  readonly asOf: Date;
  /** The state in effect at `asOf`. */
  readonly target: StateAt;
  /** The refusal to throw (a denied row naming `details`, the client answered `error`). */
  readonly refuse: (error: ClientError, details: Record<string, unknown>) => Error;
}

/** The restored record and what its `restore_<type>` row says. */
export interface Restored<T extends PgTable> {
  readonly record: InferSelectModel<T>;
  readonly details: Record<string, unknown>;
}

/**
 * Sets the record back to the state in effect at `asOf`, in the caller's transaction: the fields
 * its versions keep track of (the diffed ones) on the live record; or, if it was deleted since,
 * inserts it again with its id and every field of the snapshot but those the table sets itself on
 * each change (`$onUpdate`, such as `updatedAt`) and those never recorded (ignored: their
 * defaults). Refused, writing nothing, when that state is unknown (a gap in the trail), keeps
 * withheld values, or is the record's absence (`asOf` before its creation or after a deletion).
 * The write happens here, before the change's row is sent, so that the row holds the record as
 * the database stored it.
 */
export async function restoreRecord<T extends PgTable>(tx: DbExecutor, resource: AuditedResource<T>, request: RestoreRequest<T>): Promise<Restored<T>> {
  const { id, live, ownerId, asOf, target, refuse } = request;
  const { state, version } = target;
  if (state.kind === 'unknown') throw refuse(new HistoryIncomplete('gap'), { reason: 'history_gap', restoredTo: asOf.toISOString() });
  if (state.kind === 'absent') {
    throw refuse(new InvalidInput('asOf', `the ${resource.type} did not exist then`), { reason: 'invalid_input', field: 'asOf' });
  }
  const withheld = Object.keys(state.snapshot).filter((field) => state.snapshot[field] === WITHHELD);
  if (withheld.length > 0) throw refuse(new HistoryIncomplete('withheld', withheld), { reason: 'fields_withheld', fields: withheld });

  const past = recordOf(resource, state.snapshot) as Record<string, unknown>;
  const columns = getTableColumns(resource.table) as Record<string, PgColumn>;
  const table: PgTable = resource.table;
  const restoredTo = { restoredTo: asOf.toISOString(), version: String(version!.id) };
  if (live) {
    const kept = new Set<string>([resource.idField, resource.ownerField]);
    const values = Object.fromEntries(resource.fields.diffed.filter((field) => !kept.has(field)).map((field) => [field, past[field]]));
    const [record] = (await tx.update(table).set(values).where(eq(columns[resource.idField]!, id)).returning()) as InferSelectModel<T>[];
    return {
      record: record!,
      details: { ...restoredTo, recreated: false, changes: resource.changes(live, record!), after: resource.snapshot(record!) },
    };
  }
  const values = Object.fromEntries(
    resource.fields.snapshot.filter((field) => columns[field]!.onUpdateFn === undefined).map((field) => [field, past[field]]),
  );
  const [record] = (await tx
    .insert(table)
    .overridingSystemValue()
    .values({ ...values, [resource.idField]: id, [resource.ownerField]: ownerId })
    .returning()) as InferSelectModel<T>[];
  return { record: record!, details: { ...restoredTo, recreated: true, after: resource.snapshot(record!) } };
}
