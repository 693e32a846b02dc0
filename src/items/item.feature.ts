import type { ApiFeature } from '../api/feature';
import { itemResource } from './item.audit';
import { ItemResolver } from './item.resolver';
import { ITEM_NODE } from './item.type';

/** Items: their queries (and past, from the trail) and mutations, for any signed-in user (scoped to their own); `node()` for their ids. */
export const feature: ApiFeature = {
  resolvers: [ItemResolver],
  access: {
    Query: { item: 'signedIn', items: 'signedIn', history: 'signedIn' },
    Mutation: { createItem: 'signedIn', updateItem: 'signedIn', deleteItem: 'signedIn', restoreItem: 'signedIn' },
  },
  nodes: [{ type: ITEM_NODE, fetch: (id, context) => new ItemResolver().item({ id }, context) }],
  resources: [itemResource],
};
