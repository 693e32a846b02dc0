import { Field, ID, ObjectType } from 'type-graphql';
import { ConnectionType } from '../api/connection';
import type { PageSpec } from '../api/page';
import { AuditedObject } from '../audit';
import { itemResource } from './item.audit';
import type { ItemRow } from './item.table';

@ObjectType({ description: 'A record owned by one user.' })
@AuditedObject(itemResource)
export class Item {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  title!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => ID, { description: 'The `sub` of the user the item belongs to.' })
  ownerId!: string;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;

  static fromRow(row: ItemRow): Item {
    return Object.assign(new Item(), { ...row, id: row.id.toString() });
  }
}

/** Items page in id order, oldest first. */
export const ITEM_PAGE: PageSpec = { cursorKind: 'item', defaultSize: 20, maxSize: 100 };

@ObjectType()
export class ItemConnection extends ConnectionType('Item', Item, ITEM_PAGE) {}
