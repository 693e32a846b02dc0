import { resourceOfGlobalId } from '../../api/global-id';
import { sourceOf, type AuditLogRow } from '../../audit/operations';
import type { AuditLogFilter } from './audit-log.inputs';

/**
 * Whether `row` matches `filter`, in memory: what the SQL of `AuditLogService` selects, for rows
 * the live feed has already read once for every subscriber. Tests hold both to the same answers.
 * The filter has passed the service's checks (the feed starts with a read through it).
 */
export function rowMatches(row: AuditLogRow, filter: AuditLogFilter | null | undefined): boolean {
  if (!filter) return true;
  const is = <T>(value: T, wanted: T | null | undefined) => wanted === null || wanted === undefined || value === wanted;
  if (filter.resourceId != null) {
    const { resourceType, key } = resourceOfGlobalId(filter.resourceId, 'filter.resourceId');
    if (row.resourceType !== resourceType || (row.resourceId !== key && !row.resourceIds.includes(key))) return false;
  }
  return (
    is(row.userId, filter.userId) &&
    is(row.action, filter.action) &&
    (!filter.actions || filter.actions.includes(row.action)) &&
    !filter.excludeActions?.includes(row.action) &&
    is(row.userRole, filter.userRole) &&
    is(row.resourceType, filter.resourceType) &&
    (filter.ownerId == null || row.ownerIds.includes(filter.ownerId)) &&
    is(row.outcome, filter.outcome) &&
    is(row.adminBypass, filter.adminBypass) &&
    is(sourceOf(row.details), filter.source) &&
    is(row.accessReason, filter.accessReason) &&
    is(row.breakGlass, filter.breakGlass) &&
    is(row.requestId, filter.requestId) &&
    is(row.ip, filter.ip) &&
    is(row.operationName, filter.operationName) &&
    (!filter.from || row.occurredAt >= filter.from) &&
    (!filter.to || row.occurredAt < filter.to)
  );
}
