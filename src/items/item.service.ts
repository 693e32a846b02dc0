import { and, asc, eq, gt } from 'drizzle-orm';
import { OwnedRecords, type RequestAudit } from '../audit';
import type { Viewer } from '../auth/viewer';
import { keysetPage, type KeysetPage } from '../core/keyset-page';
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

  async findById(id: bigint): Promise<ItemRow | undefined> {
    const [row] = await this.db.select().from(items).where(this.records.visible(eq(items.id, id)));
    return row;
  }

  /** Items in id order after `afterId`; ids only grow, so inserts never shift a page walk. */
  async list({ first, afterId, ownerId }: ListItemsOptions): Promise<KeysetPage<ItemRow>> {
    const filter = this.records.visible(ownerId == null ? undefined : eq(items.ownerId, ownerId));
    const rows = await this.db
      .select()
      .from(items)
      .where(and(filter, afterId === undefined ? undefined : gt(items.id, afterId)))
      .orderBy(asc(items.id))
      .limit(first + 1);
    return keysetPage(rows, first, () => this.db.$count(items, filter));
  }

  create(item: NewItem): Promise<ItemRow> {
    return this.records.create(item);
  }

  /** Applies `changes`; an item the viewer may not change is `NOT_FOUND`, as if it did not exist. */
  update(id: bigint, changes: ItemChanges): Promise<ItemRow> {
    return this.records.update(id, changes);
  }

  delete(id: bigint): Promise<void> {
    return this.records.delete(id);
  }
}
