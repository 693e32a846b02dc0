import { auditedResource } from '../audit';
import { items } from './item.table';

/**
 * What the trail records about items: admin reads of others' items, and every change with the
 * item's snapshot or the title/description it changed (`updatedAt` is the database's).
 */
export const itemResource = auditedResource({
  type: 'item',
  table: items,
  owner: 'ownerId',
  only: ['title', 'description'],
});
