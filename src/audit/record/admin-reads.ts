import type { AuditEvent } from './audit-event';
import type { AuditedResource } from '../model/audited-resource';

interface ReadsOfType {
  readonly resource: AuditedResource;
  /** Record id → its owner, in the order first read. */
  readonly owners: Map<string, string>;
  readonly fields: Set<string>;
}

/**
 * An admin's reads of other users' records in one request, kept as one row per resource type —
 * the shape CloudTrail gives `resources[]`: the records in `resource_id` (one) or `resource_ids`
 * (several), their owners in `owner_ids`, the fields read in `details.fields`. "Who accessed item
 * 42?" finds the row through either column; a page of 100 items is one row, not 100.
 */
export class AdminReads {
  private readonly byType = new Map<string, ReadsOfType>();

  note(resource: AuditedResource, resourceId: string, ownerId: string, fields: readonly string[]): void {
    let reads = this.byType.get(resource.type);
    if (!reads) this.byType.set(resource.type, (reads = { resource, owners: new Map(), fields: new Set() }));
    reads.owners.set(resourceId, ownerId);
    for (const field of fields) reads.fields.add(field);
  }

  /** One event per resource type, and empties the buffer. */
  take(): AuditEvent[] {
    const events = [...this.byType.values()].map(adminReadEvent);
    this.byType.clear();
    return events;
  }
}

/** The row for one admin's reads of records of one type. */
export function adminReadEvent({ resource, owners, fields }: ReadsOfType): AuditEvent {
  const ids = [...owners.keys()];
  return {
    action: resource.actions.adminRead,
    outcome: 'success',
    resourceId: ids.length === 1 ? ids[0] : null,
    resourceIds: ids.length === 1 ? [] : ids,
    ownerIds: [...new Set(owners.values())],
    recordOwners: owners,
    adminBypass: true,
    details: { fields: [...fields] },
  };
}

/** The row for an admin's read of the one record a change returns. */
export function adminReadOfRecord(resource: AuditedResource, resourceId: string, ownerId: string, fields: readonly string[]): AuditEvent {
  return adminReadEvent({ resource, owners: new Map([[resourceId, ownerId]]), fields: new Set(fields) });
}
