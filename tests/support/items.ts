import 'reflect-metadata';
import type { ItemRow } from '../../src/items/item.table';

export { itemId, rawIdOf } from './global-ids';

/** Every field of `Item`, and the item operations selecting all of them, for tests that drive items. */
export const ITEM_FIELDS = 'id title description ownerId createdAt updatedAt';

export const ITEM_QUERY = `query($id: ID!) { item(id: $id) { ${ITEM_FIELDS} } }`;
export const CREATE_ITEM = `mutation($input: CreateItemInput!) { createItem(input: $input) { ${ITEM_FIELDS} } }`;
export const UPDATE_ITEM = `mutation($id: ID!, $input: UpdateItemInput!) { updateItem(id: $id, input: $input) { ${ITEM_FIELDS} } }`;
export const DELETE_ITEM = 'mutation($id: ID!) { deleteItem(id: $id) { deletedItemId } }';

/** What a caller gets for an item that does not exist, or is someone else's. */
export const ITEM_NOT_FOUND = { code: 'NOT_FOUND', message: 'item not found' } as const;

/** An item as stored, for in-process tests that serve items from memory. */
export const itemRow = (id: number, ownerId: string, title = `t${id}`): ItemRow => ({
  id: BigInt(id),
  ownerId,
  title,
  description: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
});
