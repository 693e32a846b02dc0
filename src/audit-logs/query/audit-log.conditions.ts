import { and, arrayContains, eq, gte, inArray, lt, notInArray, sql, type SQL } from 'drizzle-orm';
import { resourceOfGlobalId } from '../../api/global-id';
import { auditLogs, DATABASE_SESSION_KEY } from '../../audit/operations';
import { InvalidInput } from '../../core/errors';
import type { AuditLogFilter } from './audit-log.inputs';
import { MAX_FILTER_ACTIONS } from './audit-log.limits';

/** Rows of changes made outside the API (`source: DATABASE`), as the backstop writes them. */
const fromDatabase = sql`${auditLogs.details} ? ${sql.raw(`'${DATABASE_SESSION_KEY}'`)}`;

/*
 * A filter of the trail as SQL conditions: what `AuditLogService` pages and counts by, each
 * written so that the partial index it is meant for can serve it.
 */

/**
 * The two ways a row can be about the filter's record, or none without a `resourceId`. The global
 * id names the record's type as well as its key: rows store both, and keys repeat across types.
 */
export function resourceMatches(filter: AuditLogFilter | null | undefined): SQL[] {
  if (filter?.resourceId == null) return [];
  const { resourceType, key } = resourceOfGlobalId(filter.resourceId, 'filter.resourceId');
  const ofType = eq(auditLogs.resourceType, resourceType);
  return [
    and(ofType, eq(auditLogs.resourceId, key))!,
    // Repeats the GIN index's predicate, so the planner can use that partial index.
    and(ofType, sql`cardinality(${auditLogs.resourceIds}) > 0`, arrayContains(auditLogs.resourceIds, [key]))!,
  ];
}

/**
 * The two ways a row can be about the filter's owner's records, or none without an `ownerId`: as
 * their only owner (most rows) or among several. Each repeats its index's predicate, so the planner
 * can use that partial index.
 */
export function ownerMatches(filter: AuditLogFilter | null | undefined): SQL[] {
  if (filter?.ownerId == null) return [];
  return [
    and(sql`cardinality(${auditLogs.ownerIds}) = 1`, sql`${auditLogs.ownerIds}[1] = ${filter.ownerId}`)!,
    and(sql`cardinality(${auditLogs.ownerIds}) > 1`, arrayContains(auditLogs.ownerIds, [filter.ownerId]))!,
  ];
}

/**
 * Rejects filters that cannot mean what the caller intended, then turns the rest into SQL; the
 * `actions` list is left out when the page's branches match one action each.
 */
export function conditionsFor(filter: AuditLogFilter | null | undefined, include = { actions: true }): (SQL | undefined)[] {
  if (!filter) return [];
  if (filter.actions && filter.actions.length === 0) {
    throw new InvalidInput('filter.actions', 'must list at least one action (omit it to match all)');
  }
  for (const field of ['actions', 'excludeActions'] as const) {
    if (filter[field] && filter[field].length > MAX_FILTER_ACTIONS) {
      throw new InvalidInput(`filter.${field}`, `must list at most ${MAX_FILTER_ACTIONS} actions`);
    }
  }
  if (filter.from && filter.to && filter.from >= filter.to) {
    throw new InvalidInput('filter.to', 'must be later than filter.from');
  }
  const equal = <T>(column: Parameters<typeof eq>[0], value: T | null | undefined) =>
    value === null || value === undefined ? undefined : eq(column, value);
  return [
    equal(auditLogs.userId, filter.userId),
    equal(auditLogs.action, filter.action),
    filter.actions && include.actions ? inArray(auditLogs.action, filter.actions) : undefined,
    // No index of its own: the other conditions' index is read, stepping over the excluded actions.
    filter.excludeActions?.length ? notInArray(auditLogs.action, filter.excludeActions) : undefined,
    equal(auditLogs.userRole, filter.userRole),
    equal(auditLogs.resourceType, filter.resourceType),
    equal(auditLogs.outcome, filter.outcome),
    // Literals, not parameters: the partial indexes on admin_bypass (an owner's access log among
    // them) serve a generic plan only when the query itself implies their predicate.
    filter.adminBypass == null ? undefined : filter.adminBypass ? sql`${auditLogs.adminBypass}` : sql`not ${auditLogs.adminBypass}`,
    // As `sourceOf` tells them apart; a literal key, which the partial index's predicate names.
    filter.source == null ? undefined : filter.source === 'DATABASE' ? fromDatabase : sql`not (${fromDatabase})`,
    equal(auditLogs.accessReason, filter.accessReason),
    // `break_glass` is only ever true with a reason: read from the reasons' partial index either way.
    filter.breakGlass == null ? undefined : filter.breakGlass ? eq(auditLogs.breakGlass, true) : sql`not ${auditLogs.breakGlass}`,
    equal(auditLogs.requestId, filter.requestId),
    equal(auditLogs.ip, filter.ip),
    equal(auditLogs.operationName, filter.operationName),
    filter.from ? gte(auditLogs.occurredAt, filter.from) : undefined,
    filter.to ? lt(auditLogs.occurredAt, filter.to) : undefined,
  ];
}
