import type { AuditEvent } from './audit-event';
import { ROW_LIMITS } from './row-limits';

/**
 * The events of one kind (action, resource type, reason) a request caused, kept as one row: the
 * first event's details, the fields that caused them (`details.fields`, capped) and how many
 * there were (`details.count`) — both left out for a single event not caused by a field — and
 * every record they were about. A request with 1,000 aliases of a
 * refused field writes one row, not 1,000.
 */
export class MergedEvents {
  private readonly groups = new Map<string, Group>();

  add(event: AuditEvent, field?: string): void {
    const key = `${event.action.name}\u0000${event.resourceType ?? ''}\u0000${String(event.details?.reason ?? '')}`;
    let group = this.groups.get(key);
    if (!group) {
      group = { first: event, fields: new Set(), count: 0, resourceIds: new Set(), ownerIds: new Set(), recordOwners: new Map(), adminBypass: false };
      this.groups.set(key, group);
    }
    group.count++;
    if (field !== undefined && group.fields.size < ROW_LIMITS.detailList) group.fields.add(field);
    if (event.resourceId) group.resourceIds.add(event.resourceId);
    for (const id of event.resourceIds ?? []) group.resourceIds.add(id);
    for (const owner of event.ownerIds ?? []) group.ownerIds.add(owner);
    for (const [record, owner] of event.recordOwners ?? []) group.recordOwners.set(record, owner);
    group.adminBypass ||= event.adminBypass === true;
  }

  /** One event per kind, and empties the buffer. */
  take(): AuditEvent[] {
    const events = [...this.groups.values()].map(({ first, fields, count, resourceIds, ownerIds, recordOwners, adminBypass }) => {
      // One record keeps `resource_id`; several are listed in `resource_ids` instead.
      const several = resourceIds.size > 1 || (first.resourceIds?.length ?? 0) > 0;
      return {
        ...first,
        resourceId: several ? null : first.resourceId,
        resourceIds: several ? [...resourceIds] : [],
        ownerIds: [...ownerIds],
        recordOwners,
        adminBypass,
        details: fields.size > 0 || count > 1 ? { ...first.details, fields: [...fields], count } : first.details,
      };
    });
    this.groups.clear();
    return events;
  }
}

interface Group {
  readonly first: AuditEvent;
  readonly fields: Set<string>;
  count: number;
  readonly resourceIds: Set<string>;
  readonly ownerIds: Set<string>;
  readonly recordOwners: Map<string, string>;
  adminBypass: boolean;
}
