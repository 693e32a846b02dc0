import { and, eq, getTableColumns, type InferInsertModel, type InferSelectModel, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { isAdmin, type Viewer } from '../../auth/viewer';
import { NotFound } from '../../core/errors';
import type { Db, DbExecutor } from '../../db/database';
import { AccessReasonRequired } from '../../core/errors';
import { AccessDenied } from '../record/access-denied';
import { REASON_REQUIRED } from './access-reason';
import type { AuditAction } from './audit-actions';
import type { AuditedResource } from './audited-resource';
import type { PreparedChange, RequestAudit } from '../record/request-audit';

type Row<T extends PgTable> = InferSelectModel<T>;
/** What a creation supplies: everything but the owner, who is always the caller. */
export type NewRecord<T extends PgTable, Owner extends string> = Omit<InferInsertModel<T>, Owner>;

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
    if (!row || this.mayAccess(row)) return row;
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
      const [created] = (await tx
        .insert(this.table)
        .values({ ...values, [resource.ownerField]: scope.viewer.id })
        .returning()) as Row<T>[];
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
        tx
          .update(this.table)
          .set(changes)
          .where(eq(this.idColumn, id))
          .returning()
          .then((rows) => (rows as Row<T>[])[0]!),
      };
    });
  }

  /** Deletes the record with this id. */
  delete(id: unknown): Promise<void> {
    return this.changeExisting(this.resource.actions.delete, id, (tx, before) => ({
      details: { before: this.resource.snapshot(before) },
      complete: () =>
        tx
          .delete(this.table)
          .where(eq(this.idColumn, id))
          .then(() => undefined),
    }));
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
      return { resourceId: target.resourceId, ownerId: this.ownerOf(before), adminBypass: this.bypasses(before), ...describe(tx, before) };
    });
  }

  /** The record, locked until the transaction ends, if the viewer may change it; else a denial. */
  private async lockForChange(tx: DbExecutor, id: unknown): Promise<Row<T>> {
    const [row] = (await tx.select().from(this.table).where(eq(this.idColumn, id)).for('update')) as Row<T>[];
    const refusal = new NotFound(this.resource.type);
    if (!row) throw new AccessDenied(refusal, { reason: 'not_found' });
    if (!this.mayAccess(row)) throw new AccessDenied(refusal, { reason: 'not_owner', ownerId: this.ownerOf(row) }, this.ownerOf(row));
    if (this.bypasses(row) && !this.scope.audit.mayBypass) {
      throw new AccessDenied(new AccessReasonRequired(), { reason: REASON_REQUIRED, ownerId: this.ownerOf(row) }, this.ownerOf(row), true);
    }
    return row;
  }

  /** The viewer's own record, or any for an admin. */
  private mayAccess(row: Row<T>): boolean {
    return isAdmin(this.scope.viewer) || this.ownerOf(row) === this.scope.viewer.id;
  }

  /** An admin acting on a record someone else owns. */
  private bypasses(row: Row<T>): boolean {
    return isAdmin(this.scope.viewer) && this.ownerOf(row) !== this.scope.viewer.id;
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
