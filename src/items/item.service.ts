import { and, asc, eq, gt, sql, type SQL } from 'drizzle-orm';
import { isAdmin, type Viewer } from '../auth/viewer';
import type { Db } from '../db/database';
import { notFound } from '../graphql/errors';
import { parseBigintId } from '../graphql/ids';
import { decodeCursor, encodeCursor, type Page } from '../graphql/pagination';
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
 * Data access for items, scoped to one viewer. Every query goes through {@link ItemService.visible},
 * the single place deciding what a caller may see or change: their own items, or all for an admin.
 */
export class ItemService {
  constructor(
    private readonly db: Db,
    private readonly viewer: Viewer,
  ) {}

  async findById(id: bigint): Promise<ItemRow | undefined> {
    const [row] = await this.db.select().from(items).where(this.visible(eq(items.id, id)));
    return row;
  }

  /** Items in id order after the cursor; ids only grow, so inserts never shift a page walk. */
  async list({ first, after, ownerId }: ListItemsOptions): Promise<Page<ItemRow>> {
    const filter = this.visible(ownerId ? eq(items.ownerId, ownerId) : undefined);
    const afterId = after ? parseBigintId(decodeCursor(CURSOR_KIND, after), 'after') : undefined;
    const rows = await this.db
      .select()
      .from(items)
      .where(and(filter, afterId === undefined ? undefined : gt(items.id, afterId)))
      .orderBy(asc(items.id))
      .limit(first + 1);
    return {
      nodes: rows.slice(0, first),
      hasNextPage: rows.length > first,
      cursorOf: (row) => encodeCursor(CURSOR_KIND, row.id.toString()),
      countTotal: () => this.db.$count(items, filter),
    };
  }

  async create(item: NewItem): Promise<ItemRow> {
    const [row] = await this.db
      .insert(items)
      .values({ ...item, ownerId: this.viewer.id })
      .returning();
    return row!;
  }

  /** Applies `changes`; an item the viewer may not change is `NOT_FOUND`, as if it did not exist. */
  async update(id: bigint, changes: ItemChanges): Promise<ItemRow> {
    const [row] = await this.db
      .update(items)
      .set({ ...changes, updatedAt: sql`now()` })
      .where(this.visible(eq(items.id, id)))
      .returning();
    if (!row) throw notFound('item');
    return row;
  }

  async delete(id: bigint): Promise<void> {
    const [row] = await this.db.delete(items).where(this.visible(eq(items.id, id))).returning({ id: items.id });
    if (!row) throw notFound('item');
  }

  private visible(condition?: SQL): SQL | undefined {
    return isAdmin(this.viewer) ? condition : and(eq(items.ownerId, this.viewer.id), condition);
  }
}
