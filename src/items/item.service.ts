import { and, asc, eq, gt } from 'drizzle-orm';
import { OwnedRecords, type RequestAudit } from '../audit';
import type { PageRequest } from '../api/page';
import type { Viewer } from '../auth/viewer';
import { exactTotal, keysetPage, type KeysetPage } from '../core/keyset-page';
import type { Db } from '../db/database';
import { itemResource } from './item.audit';
import { items, type ItemRow } from './item.table';

export interface ListItemsOptions {
  readonly first: number;
  readonly afterId?: bigint;
  readonly ownerId?: string | null;
}

export interface NewItem {
  title: string;
  description: string | null;
}

export type ItemChanges = Partial<NewItem>;

/**
 * Items as one viewer sees them: their own, or all for an admin. Scoping and audited changes are
 * the audit module's {@link OwnedRecords}; what is left here is what is particular to items.
 */
export class ItemService {
  private readonly records: OwnedRecords<typeof items>;

  constructor(private readonly db: Db, viewer: Viewer, audit: RequestAudit) {
    this.records = new OwnedRecords(itemResource, { db, viewer, audit });
  }

  /** The item if the viewer may see it; someone else's is `undefined` too, and recorded as refused. */
  findById(id: bigint): Promise<ItemRow | undefined> {
    return this.records.find(id);
  }

  /** Items in id order after `afterId`; ids only grow, so inserts never shift a page walk. */
  async list({ first, afterId, ownerId }: ListItemsOptions): Promise<KeysetPage<ItemRow>> {
    if (!this.records.mayList(ownerId ?? undefined)) return keysetPage([], first, async () => exactTotal(0));
    const filter = this.records.visible(ownerId == null ? undefined : eq(items.ownerId, ownerId));
    const rows = await this.db
      .select()
      .from(items)
      .where(and(filter, afterId === undefined ? undefined : gt(items.id, afterId)))
      .orderBy(asc(items.id))
      .limit(first + 1);
    return keysetPage(rows, first, async () => exactTotal(await this.db.$count(items, filter)));
  }

  create(item: NewItem): Promise<ItemRow> {
    return this.records.create(item);
  }

  /**
   * Applies the changes `validate` returns, once the viewer may change the item; an item the viewer
   * may not change is `NOT_FOUND`, as if it did not exist, whatever the input.
   */
  update(id: bigint, validate: () => ItemChanges): Promise<ItemRow> {
    return this.records.update(id, validate);
  }

  delete(id: bigint): Promise<void> {
    return this.records.delete(id);
  }

  /** The item as it was at `instant`, rebuilt from the trail; `undefined` if it did not exist then, or is not the viewer's. */
  asOf(id: bigint, instant: Date) {
    return this.records.asOf(id, instant, 'Query.item');
  }

  /** The item's versions, newest first; `undefined` if it never existed, or is not the viewer's. */
  history(id: bigint, page: PageRequest) {
    return this.records.history(id, page, 'Query.history');
  }

  /** Sets the item back to its state at `asOf`, recreating it (same id) if it was deleted since. */
  restore(id: bigint, asOf: Date): Promise<ItemRow> {
    return this.records.restore(id, asOf);
  }
}
