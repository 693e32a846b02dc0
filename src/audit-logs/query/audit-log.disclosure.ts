import type { AuditEvent, AuditLogRow } from '../../audit/operations';
import type { Viewer } from '../../auth/viewer';
import { EXPORT_AUDIT_LOGS, VIEW_AUDIT_LOGS } from './audit-log.actions';

/**
 * Rows that record reads of the trail itself. They name the records a query of the trail showed,
 * but carry none of their data: counting them again would make each query of the trail re-list
 * every record the queries it shows had listed, and those lists would snowball.
 */
const TRAIL_READS = new Set([VIEW_AUDIT_LOGS.name, EXPORT_AUDIT_LOGS.name]);

/** What a query of the trail showed of owned records, as its `view_audit_logs` row records it. */
export type Disclosure = Pick<AuditEvent, 'resourceType' | 'resourceId' | 'resourceIds' | 'ownerIds' | 'adminBypass'>;

/**
 * The owned records whose data `rows` carry (snapshots, changes, fields read), one disclosure per
 * resource type, so that "who saw item 42?" finds the trail queries that showed it, and a query
 * showing other users' data is an admin bypass like any other read of it. `fallback` describes a
 * query that showed no owned data.
 */
export function disclosuresOf(rows: readonly AuditLogRow[], viewer: Viewer | undefined, fallback: Disclosure): Disclosure[] {
  const byType = new Map<string, { ids: Set<string>; owners: Set<string> }>();
  for (const row of rows) {
    if (row.ownerIds.length === 0 || row.resourceType === null || TRAIL_READS.has(row.action)) continue;
    let shown = byType.get(row.resourceType);
    if (!shown) byType.set(row.resourceType, (shown = { ids: new Set(), owners: new Set() }));
    for (const id of row.resourceId === null ? row.resourceIds : [row.resourceId]) shown.ids.add(id);
    for (const owner of row.ownerIds) shown.owners.add(owner);
  }
  if (byType.size === 0) return [fallback];
  return [...byType].map(([resourceType, { ids, owners }]) => ({
    resourceType,
    resourceIds: [...ids],
    ownerIds: [...owners],
    adminBypass: [...owners].some((owner) => owner !== viewer?.id),
  }));
}
