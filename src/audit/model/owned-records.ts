import { and, eq, getTableColumns, type InferInsertModel, type InferSelectModel, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { isAdmin, type Viewer } from '../../auth/viewer';
import { AccessReasonRequired, HistoryIncomplete, NotFound, type ClientError } from '../../core/errors';
import { exactTotal, keysetPage, type KeysetPage } from '../../core/keyset-page';
import type { Db, DbExecutor } from '../../db/database';
import { AccessDenied } from '../record/access-denied';
import { REASON_REQUIRED } from './access-reason';
import type { AuditAction } from './audit-actions';
import type { AuditedResource } from './audited-resource';
import type { ChangeStatement, PreparedChange, RequestAudit } from '../record/request-audit';
import { readRecordTimeline, recordOf, recordTimelineIn } from './history/record-timeline';
import type { RecordVersion } from './history/record-version';
import { restoreRecord } from './history/restoring';
import type { Timeline } from './history/timeline';

type Row<T extends PgTable> = InferSelectModel<T>;
/** What a creation supplies: everything but the owner, who is always the caller. */
export type NewRecord<T extends PgTable, Owner extends string> = Omit<InferInsertModel<T>, Owner>;

/** A record as it was at an instant, and the version that made it so. */
export interface PastRecord<T extends PgTable> {
  /** Its fields as the trail keeps them: sensitive ones `[withheld]`, ignored ones absent. */
  readonly record: Row<T>;
  readonly version: RecordVersion;
}

/** The viewer-scoped records of one audited resource, and its audited changes. */
export interface OwnedRecordsScope {
  readonly db: Db;
  readonly viewer: Viewer;
  readonly audit: RequestAudit;
}

/**
 * A resource's records as one viewer may see and change them — their own, or all of them for an
 * admin — with every change recorded in its own transaction. A change of a record the viewer may
 * not change, or that does not exist, is refused as `NOT_FOUND` either way (existence is not
 * leaked) and recorded as `denied` with `details.reason` `not_owner` or `not_found`.
 */
export class OwnedRecords<T extends PgTable> {
  private readonly idColumn: PgColumn;
  private readonly ownerColumn: PgColumn;

  constructor(
    private readonly resource: AuditedResource<T>,
    private readonly scope: OwnedRecordsScope,
  ) {
    const columns = getTableColumns(resource.table) as Record<string, PgColumn>;
    this.idColumn = columns[resource.idField]!;
    this.ownerColumn = columns[resource.ownerField]!;
  }

  /** `condition`, narrowed to the records the viewer may see. */
  visible(condition?: SQL): SQL | undefined {
    return isAdmin(this.scope.viewer) ? condition : and(eq(this.ownerColumn, this.scope.viewer.id), condition);
  }

  /**
   * The record with this id if the viewer may see it. Someone else's record is `undefined` too —
   * as if it did not exist — and the attempt is recorded as a denied view (reason `not_owner`).
   */
  async find(id: unknown): Promise<Row<T> | undefined> {
    const [row] = (await this.scope.db.select().from(this.table).where(eq(this.idColumn, id))) as Row<T>[];
    if (!row || this.mayAccess(this.ownerOf(row))) return row;
    const ownerId = this.ownerOf(row);
    this.scope.audit.denied({
      action: this.resource.actions.view,
      resourceId: String(id),
      ownerIds: [ownerId],
      details: { reason: 'not_owner', ownerId },
    });
    return undefined;
  }

  /**
   * Whether the viewer may list the records of `ownerId` (everyone's when undefined): their own, or
   * anyone's for an admin. Asking for someone else's is answered with nothing and recorded as a
   * denied list (reason `not_owner`). An admin whose request may not bypass the scoping (no stated
   * reason where one is required) is refused for any listing beyond their own, before anything is
   * read — not even a count or a cursor leaves — with a denied list row and {@link AccessReasonRequired}.
   */
  mayList(ownerId: string | undefined): boolean {
    if (ownerId === this.scope.viewer.id) return true;
    if (isAdmin(this.scope.viewer)) {
      if (this.scope.audit.mayBypass) return true;
      this.scope.audit.denied({
        action: this.resource.actions.list,
        ownerIds: ownerId === undefined ? [] : [ownerId],
        adminBypass: true,
        details: { reason: REASON_REQUIRED, ...(ownerId === undefined ? {} : { ownerId }) },
      });
      throw new AccessReasonRequired();
    }
    if (ownerId === undefined) return true;
    this.scope.audit.denied({
      action: this.resource.actions.list,
      ownerIds: [ownerId],
      details: { reason: 'not_owner', ownerId },
    });
    return false;
  }

  /** Inserts a record owned by the viewer. */
  create(values: NewRecord<T, AuditedResource<T>['ownerField']>): Promise<Row<T>> {
    const { resource, scope } = this;
    return scope.audit.change({ action: resource.actions.create }, async (tx) => {
      const [created] = (await scope.audit.changeStatement(
        tx,
        tx.insert(this.table).values({ ...values, [resource.ownerField]: scope.viewer.id }).returning(),
      )) as Row<T>[];
      return {
        resourceId: this.idOf(created!),
        ownerId: scope.viewer.id,
        adminBypass: false,
        details: { after: resource.snapshot(created!) },
        complete: async () => created!,
      };
    });
  }

  /**
   * Applies the changes `validate` returns to the record with this id. They are validated only once
   * the viewer may change the record, so bad input on someone else's record is refused like any
   * other attempt on it (`NOT_FOUND`, recorded as denied), never answered with what is wrong.
   */
  update(id: unknown, validate: () => Partial<InferInsertModel<T>>): Promise<Row<T>> {
    return this.changeExisting(this.resource.actions.update, id, (tx, before) => {
      const changes = validate();
      // The row is locked, so what the update will change is known before it runs.
      return {
        details: { changes: this.resource.changes(before, { ...before, ...changes }) },
      complete: () =>
        this.scope.audit
          .changeStatement(tx, tx.update(this.table).set(changes).where(eq(this.idColumn, id)).returning())
          .then((rows) => (rows as Row<T>[])[0]!),
      };
    });
  }

  /** Deletes the record with this id. */
  delete(id: unknown): Promise<void> {
    return this.changeExisting(this.resource.actions.delete, id, (tx, before) => ({
      details: { before: this.resource.snapshot(before) },
      complete: () =>
        this.scope.audit.changeStatement(tx, tx.delete(this.table).where(eq(this.idColumn, id))).then(() => undefined),
    }));
  }

  /**
   * The record with this id as it was at `instant`, rebuilt from the trail (see `Timeline`), if
   * the viewer may see it (its owner now, or when it was deleted, decides); `undefined` when it did
   * not exist then, or is someone else's (recorded as {@link find} records it). An admin's read of
   * someone else's is recorded by the field's `@AuditedReads()`, like any read; `field` names the
   * API field in a refusal. {@link HistoryIncomplete} when the trail cannot tell.
   */
  async asOf(id: unknown, instant: Date, field: string): Promise<PastRecord<T> | undefined> {
    const past = await this.readablePast(id, field);
    if (!past) return undefined;
    const { state, version } = past.timeline.at(instant);
    if (state.kind === 'unknown') throw new HistoryIncomplete('gap');
    return state.kind === 'present' ? { record: recordOf(this.resource, state.snapshot), version: publicVersion(version!) } : undefined;
  }

  /**
   * The record's versions, newest first, a page of `first` after the version `afterId`, if the
   * viewer may see the record; `undefined` as {@link asOf}. An admin's read of someone else's is
   * recorded here, as a read of `field` (the API field) of the record.
   */
  async history(id: unknown, page: { first: number; afterId?: bigint }, field: string): Promise<KeysetPage<RecordVersion> | undefined> {
    const past = await this.readablePast(id, field);
    if (!past) return undefined;
    const { ownerId, timeline } = past;
    if (this.bypasses(ownerId) && this.scope.audit.recordsReads) this.scope.audit.noteAdminRead(this.resource, String(id), ownerId, [field]);
    // Newest first from the end, copying no more than the page: a history can be long.
    const { versions } = timeline;
    const rows: RecordVersion[] = [];
    for (let index = versions.length - 1; index >= 0 && rows.length <= page.first; index--) {
      if (page.afterId === undefined || versions[index]!.id < page.afterId) rows.push(publicVersion(versions[index]!));
    }
    return keysetPage(rows, page.first, async () => exactTotal(versions.length));
  }

  /** The record's timeline and its owner (now, or when it was deleted), if the viewer may read its past. */
  private async readablePast(id: unknown, field: string): Promise<{ ownerId: string; timeline: Timeline } | undefined> {
    const { live, timeline } = await readRecordTimeline(this.scope.db, this.resource, id);
    const ownerId = live ? this.ownerOf(live) : timeline.lastOwner;
    return ownerId !== undefined && this.mayReadPast(String(id), ownerId, field) ? { ownerId, timeline } : undefined;
  }

  /**
   * Sets the record with this id back to its state at `asOf` as one change, `restore_<type>`
   * (see `restoreRecord`): the viewer's own, or anyone's for an admin, as for any change; a record
   * deleted since is inserted again with its id, owned by whoever owned it when it was deleted.
   * Refused as a denied row, writing nothing, when the trail cannot rebuild that state.
   */
  restore(id: unknown, asOf: Date): Promise<Row<T>> {
    const target = { action: this.resource.actions.restore, resourceId: String(id) };
    return this.scope.audit.change(target, async (tx) => {
      // The live row is locked before the versions are read: no change of it can slip between.
      const { live, timeline } = await recordTimelineIn(this.scope.db, tx, this.resource, id, true);
      const ownerId = live ? this.ownerOf(live) : timeline.lastOwner;
      if (ownerId === undefined) throw new AccessDenied(new NotFound(this.resource.type), { reason: 'not_found' });
      this.checkMayChange(ownerId);
      const adminBypass = this.bypasses(ownerId);
      const refuse = (error: ClientError, details: Record<string, unknown>) => new AccessDenied(error, details, ownerId, adminBypass);
      const run = <R>(statement: ChangeStatement<R>) => this.scope.audit.changeStatement(tx, statement);
      const restored = await restoreRecord(tx, this.resource, { id, live, ownerId, asOf, target: timeline.at(asOf), refuse, run });
      return { resourceId: target.resourceId, ownerId, adminBypass, details: restored.details, complete: async () => restored.record };
    });
  }

  /** Locks the record and checks the viewer may change it, then records `action` with what `describe` says. */
  private changeExisting<R>(
    action: AuditAction,
    id: unknown,
    describe: (tx: DbExecutor, before: Row<T>) => Pick<PreparedChange<R>, 'details' | 'complete'>,
  ): Promise<R> {
    const target = { action, resourceId: String(id) };
    return this.scope.audit.change(target, async (tx) => {
      const before = await this.lockForChange(tx, id);
      return { resourceId: target.resourceId, ownerId: this.ownerOf(before), adminBypass: this.bypasses(this.ownerOf(before)), ...describe(tx, before) };
    });
  }

  /** The record, locked until the transaction ends, if the viewer may change it; else a denial. */
  private async lockForChange(tx: DbExecutor, id: unknown): Promise<Row<T>> {
    const [row] = (await tx.select().from(this.table).where(eq(this.idColumn, id)).for('update')) as Row<T>[];
    if (!row) throw new AccessDenied(new NotFound(this.resource.type), { reason: 'not_found' });
    this.checkMayChange(this.ownerOf(row));
    return row;
  }

  /** Throws the denial of a change of a record `ownerId` owns, unless the viewer may make it. */
  private checkMayChange(ownerId: string): void {
    if (!this.mayAccess(ownerId)) throw new AccessDenied(new NotFound(this.resource.type), { reason: 'not_owner', ownerId }, ownerId);
    if (this.bypasses(ownerId) && !this.scope.audit.mayBypass) {
      throw new AccessDenied(new AccessReasonRequired(), { reason: REASON_REQUIRED, ownerId }, ownerId, true);
    }
  }

  /**
   * Whether the viewer may read the past of record `id`, which `ownerId` owns: their own, or
   * anyone's for an admin. A user asking for someone else's is answered as if it did not exist,
   * recorded as a denied view (reason `not_owner`); an admin whose request may not bypass the
   * scoping is refused before anything of it is read ({@link AccessReasonRequired}, a denied
   * read naming `field`, the API field asking).
   */
  private mayReadPast(id: string, ownerId: string, field: string): boolean {
    if (this.mayAccess(ownerId)) {
      if (this.bypasses(ownerId) && !this.scope.audit.mayBypass) {
        throw this.scope.audit.bypassRefused({ action: this.resource.actions.adminRead, resourceId: id, ownerIds: [ownerId] }, field);
      }
      return true;
    }
    this.scope.audit.denied({ action: this.resource.actions.view, resourceId: id, ownerIds: [ownerId], details: { reason: 'not_owner', ownerId } });
    return false;
  }

  /** The viewer's own record, or any for an admin. */
  private mayAccess(ownerId: string): boolean {
    return isAdmin(this.scope.viewer) || ownerId === this.scope.viewer.id;
  }

  /** An admin acting on a record someone else owns. */
  private bypasses(ownerId: string): boolean {
    return isAdmin(this.scope.viewer) && ownerId !== this.scope.viewer.id;
  }

  private idOf(row: Row<T>): string {
    return String((row as Record<string, unknown>)[this.resource.idField]);
  }

  private ownerOf(row: Row<T>): string {
    return String((row as Record<string, unknown>)[this.resource.ownerField]);
  }

  /** Drizzle's builders want a concrete table type; the resource's is generic here. */
  private get table(): PgTable {
    return this.resource.table;
  }
}

/** A version as callers see it: what it changed, not the values the trail keeps. */
function publicVersion({ id, at, action, kind, userId, source, databaseRole, changedFields }: RecordVersion): RecordVersion {
  return { id, at, action, kind, userId, source, databaseRole, changedFields };
}
