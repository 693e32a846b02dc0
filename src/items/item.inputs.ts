import { ArgsType, Field, ID, InputType } from 'type-graphql';
import { RECORD_VERSION_PAGE } from '../api/record-version';
import { AfterArg, FirstArg } from '../api/page';
import { ITEM_PAGE } from './item.type';

@ArgsType()
export class ItemsArgs {
  @FirstArg(ITEM_PAGE)
  first!: number | null;

  @AfterArg()
  after?: string | null;

  @Field(() => String, { nullable: true, description: 'Only items of this owner (a user id, the JWT `sub`).' })
  ownerId?: string | null;
}

@InputType({ description: 'Only the fields given are changed; `description: null` clears it.' })
export class UpdateItemInput {
  @Field(() => String, { nullable: true, description: '1 to 200 characters, not blank; omit to keep it.' })
  title?: string | null;

  @Field(() => String, { nullable: true, description: 'At most 10,000 characters; omit to keep it.' })
  description?: string | null;
}

@InputType({ description: 'A new item; the caller owns it.' })
export class CreateItemInput {
  @Field(() => String, { description: '1 to 200 characters, not blank.' })
  title!: string;

  @Field(() => String, { nullable: true, description: 'At most 10,000 characters.' })
  description?: string | null;
}

@ArgsType()
export class UpdateItemArgs {
  @Field(() => ID, { description: 'The item’s global id.' })
  id!: string;

  @Field(() => UpdateItemInput)
  input!: UpdateItemInput;
}

@ArgsType()
export class ItemArgs {
  @Field(() => ID, { description: 'The item’s global id.' })
  id!: string;

  @Field(() => Date, {
    nullable: true,
    description: 'An instant: the item as the audit trail rebuilds it then (`HISTORY_INCOMPLETE` if it cannot); a deleted item’s too.',
  })
  asOf?: Date | null;
}

@ArgsType()
export class RestoreItemArgs {
  @Field(() => ID, { description: 'The item’s global id; a deleted item’s too.' })
  id!: string;

  @Field(() => Date, { description: 'The instant whose state to restore, e.g. a version’s `timestamp`.' })
  asOf!: Date;
}

@ArgsType()
export class ItemHistoryArgs {
  @Field(() => ID, { description: 'The item’s global id; a deleted item’s too.' })
  id!: string;

  @FirstArg(RECORD_VERSION_PAGE)
  first!: number | null;

  @AfterArg()
  after?: string | null;
}
