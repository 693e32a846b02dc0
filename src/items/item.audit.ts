import type { ItemRow } from './item.table';

/** What the audit trail records about items: the actions, and the values they keep. */
export const ItemAudit = {
  resourceType: 'item',
  adminRead: 'admin_view_item',
  create: 'create_item',
  update: 'update_item',
  delete: 'delete_item',
} as const;

/** The item as it is kept in `details.after` / `details.before`. */
export function itemSnapshot(row: ItemRow): Record<string, unknown> {
  return {
    id: row.id.toString(),
    ownerId: row.ownerId,
    title: row.title,
    description: row.description,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

const EDITABLE = ['title', 'description'] as const;

/** `{ field: { from, to } }` for the editable fields whose value changed. */
export function itemChanges(before: ItemRow, after: ItemRow): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of EDITABLE) {
    if (before[field] !== after[field]) changes[field] = { from: before[field], to: after[field] };
  }
  return changes;
}
