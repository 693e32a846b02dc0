import { Arg, Args, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { viewerOf, type Context } from '../api/context';
import { readPageArgs } from '../api/page';
import { AuditedReads } from '../audit';
import { InvalidInput } from '../core/errors';
import { CreateItemInput, ItemsArgs, UpdateItemArgs, type UpdateItemInput } from './item.inputs';
import { ItemService, type ItemChanges } from './item.service';
import { DeleteItemPayload, ITEM_NODE, ITEM_PAGE, Item, ItemConnection } from './item.type';
import { checkDescription, checkTitle } from './item.validation';

@Resolver(() => Item)
export class ItemResolver {
  @Query(() => Item, { nullable: true, description: 'The item, or null if it does not exist or is not yours.' })
  @AuditedReads()
  async item(@Arg('id', () => ID) id: string, @Ctx() context: Context): Promise<Item | null> {
    const row = await service(context).findById(ITEM_NODE.parse(id, 'id'));
    return row ? Item.fromRow(row) : null;
  }

  @Query(() => ItemConnection, { description: 'Your items (all items for an admin), oldest first.' })
  async items(@Args(() => ItemsArgs) args: ItemsArgs, @Ctx() context: Context): Promise<ItemConnection> {
    const page = await service(context).list({ ...readPageArgs(ITEM_PAGE, args), ownerId: args.ownerId });
    return ItemConnection.fromPage(page, Item.fromRow);
  }

  @Mutation(() => Item)
  @AuditedReads()
  async createItem(@Arg('input', () => CreateItemInput) input: CreateItemInput, @Ctx() context: Context): Promise<Item> {
    const row = await service(context).create({
      title: checkTitle(input.title),
      description: checkDescription(input.description),
    });
    return Item.fromRow(row);
  }

  @Mutation(() => Item)
  @AuditedReads()
  async updateItem(@Args(() => UpdateItemArgs) { id, input }: UpdateItemArgs, @Ctx() context: Context): Promise<Item> {
    const itemId = ITEM_NODE.parse(id, 'id');
    const row = await service(context).update(itemId, () => checkChanges(input));
    return Item.fromRow(row);
  }

  @Mutation(() => DeleteItemPayload, { description: 'Deletes the item and answers its id; NOT_FOUND if it is not yours.' })
  async deleteItem(@Arg('id', () => ID) id: string, @Ctx() context: Context): Promise<DeleteItemPayload> {
    const itemId = ITEM_NODE.parse(id, 'id');
    await service(context).delete(itemId);
    return { deletedItemId: ITEM_NODE.globalId(itemId) };
  }
}

function service(context: Context): ItemService {
  return new ItemService(context.db, viewerOf(context), context.audit);
}

function checkChanges(input: UpdateItemInput): ItemChanges {
  const changes: ItemChanges = {};
  if (input.title !== undefined) changes.title = checkTitle(input.title);
  if (input.description !== undefined) changes.description = checkDescription(input.description);
  if (Object.keys(changes).length === 0) {
    throw new InvalidInput('input', 'give at least one of title, description');
  }
  return changes;
}
