import { Field, ID, ObjectType } from 'type-graphql';
import { ConnectionType } from '../api/connection';
import { bigintNodeType } from '../api/global-id';
import { Node } from '../api/node';
import type { PageSpec } from '../api/page';
import { AuditedObject, type RecordVersion } from '../audit';
import { itemResource } from './item.audit';
import type { ItemRow } from './item.table';

/** Items' global ids: `Item` and the row id. */
export const ITEM_NODE = bigintNodeType('Item', itemResource.type);

@ObjectType({ description: 'A record owned by one user.', implements: Node })
@AuditedObject(itemResource)
export class Item implements Node {
  /** The row id, which the audit trail records; clients see {@link globalId} as `id`. */
  id!: string;

  get globalId(): string {
    return ITEM_NODE.globalId(this.id);
  }

  @Field(() => String)
  title!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => String, { description: 'The user id (JWT `sub`) of the user the item belongs to.' })
  ownerId!: string;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;

  static fromRow(row: ItemRow): Item {
    return Object.assign(new Item(), { ...row, id: row.id.toString() });
  }

  /**
   * The item as it was, rebuilt from the trail. Updates do not record `updatedAt` (the database
   * sets it), so it is the instant the version in effect counts from.
   */
  static fromPast({ record, version }: { record: ItemRow; version: RecordVersion }): Item {
    return Item.fromRow({ ...record, updatedAt: version.at });
  }
}

/** Items page in id order, oldest first. */
export const ITEM_PAGE: PageSpec = { cursorKind: 'item', defaultSize: 20, maxSize: 100 };

@ObjectType()
export class ItemConnection extends ConnectionType('Item', Item, ITEM_PAGE) {}

@ObjectType({ description: 'What `deleteItem` removed: its id, for clients to evict it from their caches.' })
export class DeleteItemPayload {
  @Field(() => ID, { description: 'The global id of the deleted item (Relay: `@deleteRecord`; Apollo Client: `cache.evict`).' })
  deletedItemId!: string;
}
