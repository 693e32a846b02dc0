import type { ChangeStatement } from '../../record/request-audit';
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
  /** Runs the statement that writes the record, claimed as the request's own change (`RequestAudit.changeStatement`). */
  readonly run: <R>(statement: ChangeStatement<R>) => Promise<R>;
}

/** The restored record and what its `restore_<type>` row says. */
export interface Restored<T extends PgTable> {
  readonly record: InferSelectModel<T>;
  readonly details: Record<string, unknown>;
}

/**
 * Sets the record back to the state in effect at `asOf`, in the caller's transaction: the fields
 * its versions keep track of (the diffed ones) on the live record; or, if it was deleted since,
 * inserts it again with its id and every field of the snapshot. Either way, fields the table sets
 * itself on each change (`$onUpdate`, such as `updatedAt`) are left to it, and fields never
 * recorded (ignored) keep their value, or their default when inserted. Refused, writing nothing, when that state is unknown (a gap in the trail), keeps
 * withheld values, or is the record's absence (`asOf` before its creation or after a deletion).
 * The write happens here, before the change's row is sent, so that the row holds the record as
 * the database stored it.
 */
export async function restoreRecord<T extends PgTable>(tx: DbExecutor, resource: AuditedResource<T>, request: RestoreRequest<T>): Promise<Restored<T>> {
  const { id, live, ownerId, asOf, target, refuse, run } = request;
  const { state, version } = target;
  if (state.kind === 'unknown') throw refuse(new HistoryIncomplete('gap'), { reason: 'history_gap', restoredTo: asOf.toISOString() });
  if (state.kind === 'absent') {
    throw refuse(new InvalidInput('asOf', `the ${resource.type} did not exist then`), { reason: 'invalid_input', field: 'asOf' });
  }
  const withheld = Object.keys(state.snapshot).filter((field) => state.snapshot[field] === WITHHELD);
  if (withheld.length > 0) throw refuse(new HistoryIncomplete('withheld', withheld), { reason: 'fields_withheld', fields: withheld });

  const past = recordOf(resource, state.snapshot) as Record<string, unknown>;
  const restoredTo = { restoredTo: asOf.toISOString(), version: String(version!.id) };
  if (live) {
    const record = await updateBack(tx, resource, id, past, run);
    return { record, details: { ...restoredTo, recreated: false, changes: resource.changes(live, record), after: resource.snapshot(record) } };
  }
  const record = await insertAgain(tx, resource, { ...past, [resource.idField]: id, [resource.ownerField]: ownerId }, run);
  return { record, details: { ...restoredTo, recreated: true, after: resource.snapshot(record) } };
}

/** The fields the table sets itself on each change (`$onUpdate`), which a restore leaves to it. */
function setByTable(resource: AuditedResource): (field: string) => boolean {
  const columns = getTableColumns(resource.table) as Record<string, PgColumn>;
  return (field) => columns[field]!.onUpdateFn !== undefined;
}

/** Sets the live record's diffed fields (not its id or owner) to their values in `past`. */
async function updateBack<T extends PgTable>(
  tx: DbExecutor,
  resource: AuditedResource<T>,
  id: unknown,
  past: Record<string, unknown>,
  run: RestoreRequest<T>['run'],
): Promise<InferSelectModel<T>> {
  const idColumn = (getTableColumns(resource.table) as Record<string, PgColumn>)[resource.idField]!;
  const kept = new Set<string>([resource.idField, resource.ownerField]);
  const isSetByTable = setByTable(resource);
  const fields = resource.fields.diffed.filter((field) => !kept.has(field) && !isSetByTable(field));
  const table: PgTable = resource.table;
  const [record] = await run(tx.update(table).set(Object.fromEntries(fields.map((field) => [field, past[field]]))).where(eq(idColumn, id)).returning());
  return record as InferSelectModel<T>;
}

/** Inserts the record again with the snapshot's fields, its identity included (`OVERRIDING SYSTEM VALUE`). */
async function insertAgain<T extends PgTable>(
  tx: DbExecutor,
  resource: AuditedResource<T>,
  past: Record<string, unknown>,
  run: RestoreRequest<T>['run'],
): Promise<InferSelectModel<T>> {
  const isSetByTable = setByTable(resource);
  const fields = resource.fields.snapshot.filter((field) => !isSetByTable(field));
  const table: PgTable = resource.table;
  const [record] = await run(
    tx
      .insert(table)
      .overridingSystemValue()
      .values(Object.fromEntries(fields.map((field) => [field, past[field]])))
      .returning(),
  );
  return record as InferSelectModel<T>;
}
