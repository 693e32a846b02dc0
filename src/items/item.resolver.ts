import { Arg, Args, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { viewerOf, type Context } from '../api/context';
import { readPageArgs } from '../api/page';
import { RECORD_VERSION_PAGE, RecordVersionConnection, RecordVersionType } from '../api/record-version';
import { AuditedReads } from '../audit';
import { InvalidInput } from '../core/errors';
import { CreateItemInput, ItemArgs, ItemHistoryArgs, ItemsArgs, RestoreItemArgs, UpdateItemArgs, type UpdateItemInput } from './item.inputs';
import { ItemService, type ItemChanges } from './item.service';
import { DeleteItemPayload, ITEM_NODE, ITEM_PAGE, Item, ItemConnection } from './item.type';
import { checkDescription, checkTitle } from './item.validation';

@Resolver(() => Item)
export class ItemResolver {
  @Query(() => Item, {
    nullable: true,
    description: 'The item, or null if it does not exist or is not yours; with `asOf`, as it was then, or null if it did not exist then.',
  })
  @AuditedReads()
  async item(@Args(() => ItemArgs) { id, asOf }: ItemArgs, @Ctx() context: Context): Promise<Item | null> {
    const itemId = ITEM_NODE.parse(id, 'id');
    if (asOf != null) {
      const past = await service(context).asOf(itemId, asOf);
      return past ? Item.fromPast(past) : null;
    }
    const row = await service(context).findById(itemId);
    return row ? Item.fromRow(row) : null;
  }

  @Query(() => RecordVersionConnection, {
    nullable: true,
    description: 'The versions of an item (a deleted one’s too), newest first; null if it never existed or is not yours.',
  })
  async history(@Args(() => ItemHistoryArgs) args: ItemHistoryArgs, @Ctx() context: Context): Promise<RecordVersionConnection | null> {
    const itemId = ITEM_NODE.parse(args.id, 'id');
    const page = await service(context).history(itemId, readPageArgs(RECORD_VERSION_PAGE, args));
    return page ? RecordVersionConnection.fromPage(page, RecordVersionType.fromVersion) : null;
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

  @Mutation(() => Item, {
    description:
      'Sets the item back to its state at `asOf` (recreating it, same id, if deleted since); NOT_FOUND if it is not yours, HISTORY_INCOMPLETE if the trail cannot rebuild that state.',
  })
  @AuditedReads()
  async restoreItem(@Args(() => RestoreItemArgs) { id, asOf }: RestoreItemArgs, @Ctx() context: Context): Promise<Item> {
    return Item.fromRow(await service(context).restore(ITEM_NODE.parse(id, 'id'), asOf));
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
