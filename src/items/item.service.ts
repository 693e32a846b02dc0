import { and, asc, eq, gt, sql, type SQL } from 'drizzle-orm';
import { AccessDenied } from '../audit/access-denied';
import type { RequestAudit } from '../audit/request-audit';
import { isAdmin, type Viewer } from '../auth/viewer';
import type { Db, DbExecutor } from '../db/database';
import { notFound } from '../graphql/errors';
import { parseBigintId } from '../graphql/ids';
import { decodeCursor, keysetPage, type Page } from '../graphql/pagination';
import { ItemAudit, itemChanges, itemSnapshot } from './item.audit';
import { items, type ItemRow } from './item.table';

const CURSOR_KIND = 'item';

export interface ListItemsOptions {
  first: number;
  after?: string | null;
  ownerId?: string | null;
}

export interface NewItem {
  title: string;
  description: string | null;
}

export type ItemChanges = Partial<NewItem>;

/**
 * Data access for items, scoped to one viewer: their own items, or all for an admin. Reads go
 * through {@link ItemService.visible}; changes lock the row and check {@link ItemService.mayChange},
 * so a refused change can be told apart from a missing item in the audit trail (the client sees
 * NOT_FOUND either way). Every change is recorded by `audit.change`, in the change's transaction.
 */
export class ItemService {
  constructor(
    private readonly db: Db,
    private readonly viewer: Viewer,
    private readonly audit: RequestAudit,
  ) {}

  async findById(id: bigint): Promise<ItemRow | undefined> {
    const [row] = await this.db.select().from(items).where(this.visible(eq(items.id, id)));
    return row;
  }

  /** Items in id order after the cursor; ids only grow, so inserts never shift a page walk. */
  async list({ first, after, ownerId }: ListItemsOptions): Promise<Page<ItemRow>> {
    const filter = this.visible(ownerId == null ? undefined : eq(items.ownerId, ownerId));
    const afterId = after == null ? undefined : parseBigintId(decodeCursor(CURSOR_KIND, after), 'after');
    const rows = await this.db
      .select()
      .from(items)
      .where(and(filter, afterId === undefined ? undefined : gt(items.id, afterId)))
      .orderBy(asc(items.id))
      .limit(first + 1);
    return keysetPage(rows, first, CURSOR_KIND, () => this.db.$count(items, filter));
  }

  create(item: NewItem): Promise<ItemRow> {
    return this.audit.change({ action: ItemAudit.create, resourceType: ItemAudit.resourceType }, async (tx) => {
      const [row] = await tx
        .insert(items)
        .values({ ...item, ownerId: this.viewer.id })
        .returning();
      return { result: row!, resourceId: row!.id.toString(), adminBypass: false, details: { after: itemSnapshot(row!) } };
    });
  }

  /** Applies `changes`; an item the viewer may not change is `NOT_FOUND`, as if it did not exist. */
  update(id: bigint, changes: ItemChanges): Promise<ItemRow> {
    const target = { action: ItemAudit.update, resourceType: ItemAudit.resourceType, resourceId: id.toString() };
    return this.audit.change(target, async (tx) => {
      const before = await this.lockForChange(tx, id);
      // The row is locked, so what the update will change is known before it runs.
      const updated = tx
        .update(items)
        .set({ ...changes, updatedAt: sql`now()` })
        .where(eq(items.id, id))
        .returning()
        .then(([row]) => row!);
      return {
        result: updated,
        resourceId: target.resourceId,
        adminBypass: this.bypasses(before),
        details: { changes: itemChanges(before, { ...before, ...changes }) },
      };
    });
  }

  delete(id: bigint): Promise<void> {
    const target = { action: ItemAudit.delete, resourceType: ItemAudit.resourceType, resourceId: id.toString() };
    return this.audit.change(target, async (tx) => {
      const before = await this.lockForChange(tx, id);
      const deleted = tx
        .delete(items)
        .where(eq(items.id, id))
        .then(() => undefined);
      return { result: deleted, resourceId: target.resourceId, adminBypass: this.bypasses(before), details: { before: itemSnapshot(before) } };
    });
  }

  /** The row, locked until the transaction ends, if the viewer may change it; else a denial. */
  private async lockForChange(tx: DbExecutor, id: bigint): Promise<ItemRow> {
    const [row] = await tx.select().from(items).where(eq(items.id, id)).for('update');
    if (!row) throw new AccessDenied(notFound('item'), { reason: 'not_found' });
    if (!this.mayChange(row)) throw new AccessDenied(notFound('item'), { reason: 'not_owner', ownerId: row.ownerId });
    return row;
  }

  private mayChange(row: ItemRow): boolean {
    return isAdmin(this.viewer) || row.ownerId === this.viewer.id;
  }

  private bypasses(row: ItemRow): boolean {
    return isAdmin(this.viewer) && row.ownerId !== this.viewer.id;
  }

  private visible(condition?: SQL): SQL | undefined {
    return isAdmin(this.viewer) ? condition : and(eq(items.ownerId, this.viewer.id), condition);
  }
}
