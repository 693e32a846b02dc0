import { ArgsType, Field, ID, InputType, Int } from 'type-graphql';

@InputType()
export class CreateItemInput {
  @Field(() => String, { description: '1 to 200 characters, not blank.' })
  title!: string;

  @Field(() => String, { nullable: true, description: 'At most 10,000 characters.' })
  description?: string | null;
}

@InputType({ description: 'Only the fields given are changed; `description: null` clears it.' })
export class UpdateItemInput {
  @Field(() => String, { nullable: true })
  title?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;
}

@ArgsType()
export class ItemsArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20, description: '1 to 100.' })
  first!: number | null;

  @Field(() => String, { nullable: true, description: 'An `endCursor` from the previous page.' })
  after?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only items of this owner.' })
  ownerId?: string | null;
}

@ArgsType()
export class UpdateItemArgs {
  @Field(() => ID)
  id!: string;

  @Field(() => UpdateItemInput)
  input!: UpdateItemInput;
}
