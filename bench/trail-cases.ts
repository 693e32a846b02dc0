import type { AuditLogFilter } from '#src/audit-logs/query/audit-log.inputs';
import { Role } from '#src/auth/viewer';
import { ITEM_NODE } from '#src/items/item.type';

/** A README query or single filter the scale benchmark times. */
export interface TrailCase {
  readonly name: string;
  readonly filter: AuditLogFilter;
}

/** Every README query and single filter, on the seeded trail; `hot` and `rare` are item ids. */
export function trailCases(hot: string, rare: string): TrailCase[] {
  const since = new Date('2026-10-30T00:00:00Z');
  return [
    { name: 'README AdminBypasses (last day)', filter: { adminBypass: true, from: since } },
    { name: 'README ItemHistory, hot item', filter: { resourceType: 'item', resourceId: ITEM_NODE.globalId(hot) } },
    { name: 'README ItemHistory, rare item', filter: { resourceType: 'item', resourceId: ITEM_NODE.globalId(rare) } },
    // No seeded item has an id this large.
    { name: 'README ItemHistory, never-accessed item', filter: { resourceType: 'item', resourceId: ITEM_NODE.globalId(9_000_000_000_000n) } },
    { name: 'README Denials (one month)', filter: { outcome: 'denied', from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-11-01T00:00:00Z') } },
    { name: 'README UserChanges', filter: { userId: 'user-42', actions: ['create_item', 'update_item', 'delete_item'] } },
    { name: 'README OneRequest', filter: { requestId: 'req-12345' } },
    { name: 'no filter', filter: {} },
    { name: 'userId', filter: { userId: 'user-42' } },
    { name: 'action', filter: { action: 'admin_view_item' } },
    { name: 'actions (two)', filter: { actions: ['delete_item', 'access_denied'] } },
    { name: 'resourceType', filter: { resourceType: 'item' } },
    { name: 'resourceId', filter: { resourceId: ITEM_NODE.globalId(hot) } },
    { name: 'outcome: SUCCESS', filter: { outcome: 'success' } },
    { name: 'outcome: DENIED', filter: { outcome: 'denied' } },
    { name: 'adminBypass: true', filter: { adminBypass: true } },
    { name: 'adminBypass: false', filter: { adminBypass: false } },
    { name: 'excludeActions (the commonest two)', filter: { excludeActions: ['update_item', 'create_item'] } },
    { name: 'userRole: ADMIN', filter: { userRole: Role.ADMIN } },
    { name: 'userRole: USER', filter: { userRole: Role.USER } },
    { name: 'ip', filter: { ip: '10.42.0.1' } },
    { name: 'operationName', filter: { operationName: 'Op7' } },
    { name: 'ownerId', filter: { ownerId: 'user-42' } },
    // What `myDataAccess` reads: an owner's rows where an admin bypassed the scoping.
    { name: "myDataAccess (an owner's access log)", filter: { ownerId: 'user-42', adminBypass: true } },
    { name: 'from + to (one day)', filter: { from: new Date('2026-10-15T00:00:00Z'), to: new Date('2026-10-16T00:00:00Z') } },
  ];
}

/** `filter` as the GraphQL variable the API takes: outcomes are enum names (`DENIED`), times ISO strings. */
export function graphqlFilter(filter: AuditLogFilter): Record<string, unknown> {
  return { ...filter, ...(filter.outcome ? { outcome: filter.outcome.toUpperCase() } : {}) };
}
