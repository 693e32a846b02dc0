import { Field, ID, ObjectType } from 'type-graphql';
import { AuditedResource } from '../audit/audited-resource';
import { ConnectionType } from '../graphql/pagination';
import { ItemAudit } from './item.audit';
import type { ItemRow } from './item.table';

@ObjectType({ description: 'A record owned by one user.' })
@AuditedResource({
  resourceType: ItemAudit.resourceType,
  adminReadAction: ItemAudit.adminRead,
  idField: 'id',
  ownerField: 'ownerId',
})
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

@ObjectType()
export class ItemConnection extends ConnectionType('Item', Item) {}
