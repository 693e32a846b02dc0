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
export type Disclosure = Pick<AuditEvent, 'resourceType' | 'resourceId' | 'resourceIds' | 'ownerIds' | 'recordOwners' | 'adminBypass'>;

/**
 * The owned records whose data `rows` carry (snapshots, changes, fields read), one disclosure per
 * resource type, so that "who saw item 42?" finds the trail queries that showed it, and a query
 * showing other users' data is an admin bypass like any other read of it. `fallback` describes a
 * query that showed no owned data.
 */
export function disclosuresOf(rows: readonly AuditLogRow[], viewer: Viewer | undefined, fallback: Disclosure): Disclosure[] {
  const byType = new Map<string, { ids: Set<string>; owners: Set<string>; recordOwners: Map<string, string> }>();
  for (const row of rows) {
    if (row.ownerIds.length === 0 || row.resourceType === null || TRAIL_READS.has(row.action)) continue;
    let shown = byType.get(row.resourceType);
    if (!shown) byType.set(row.resourceType, (shown = { ids: new Set(), owners: new Set(), recordOwners: new Map() }));
    for (const id of row.resourceId === null ? row.resourceIds : [row.resourceId]) shown.ids.add(id);
    for (const owner of row.ownerIds) shown.owners.add(owner);
    for (const [id, owner] of recordOwnersOf(row)) shown.recordOwners.set(id, owner);
  }
  if (byType.size === 0) return [fallback];
  return [...byType].map(([resourceType, { ids, owners, recordOwners }]) => ({
    resourceType,
    resourceIds: [...ids],
    ownerIds: [...owners],
    recordOwners,
    adminBypass: [...owners].some((owner) => owner !== viewer?.id),
  }));
}

/**
 * Whose each record of `row` is: all its sole owner's, or as its `details.recordsByOwner` says.
 * A row of several owners from before that was kept names none: such records are nobody's alone.
 */
function recordOwnersOf(row: Pick<AuditLogRow, 'resourceId' | 'resourceIds' | 'ownerIds' | 'details'>): Map<string, string> {
  const ids = row.resourceId === null ? row.resourceIds : [row.resourceId];
  if (row.ownerIds.length === 1) return new Map(ids.map((id) => [id, row.ownerIds[0]!]));
  const byOwner = row.details.recordsByOwner;
  const owners = new Map<string, string>();
  if (typeof byOwner !== 'object' || byOwner === null) return owners;
  for (const [owner, records] of Object.entries(byOwner)) {
    if (Array.isArray(records)) for (const id of records) if (typeof id === 'string' && ids.includes(id)) owners.set(id, owner);
  }
  return owners;
}

/**
 * The records of `row` that `owner` owns, as the row tells: all of them when it names one owner,
 * else those `details.recordsByOwner` lists under them — where a record moved from one owner to
 * another outside the API is listed under both.
 */
export function recordsOwnedBy(row: Pick<AuditLogRow, 'resourceId' | 'resourceIds' | 'ownerIds' | 'details'>, owner: string): string[] {
  const ids = row.resourceId === null ? row.resourceIds : [row.resourceId];
  if (row.ownerIds.length === 1) return row.ownerIds[0] === owner ? [...ids] : [];
  const listed = (row.details.recordsByOwner as Record<string, unknown> | undefined)?.[owner];
  return Array.isArray(listed) ? ids.filter((id) => listed.includes(id)) : [];
}
