import { Role } from '../auth/viewer';
import type { ExportedRow } from './audit-log.export';

/**
 * A row of the trail as an OCSF 1.1 "API Activity" event (class 6003, category 6 "Application
 * Activity"), the shape SIEMs (Amazon Security Lake, Splunk, Sentinel) ingest. What OCSF has no
 * attribute for goes under `unmapped`, keyed by column.
 */
export function ocsfApiActivity(row: ExportedRow): Record<string, unknown> {
  const activity = activityOf(row.action);
  const success = row.outcome === 'success';
  const resources = (row.resourceId !== null ? [row.resourceId] : row.resourceIds).map((uid) => ({
    uid,
    type: row.resourceType,
    // A row about one record names its owner; a row listing several keeps the owners in `unmapped`.
    ...(row.resourceId !== null && row.ownerIds.length === 1 ? { owner: { uid: row.ownerIds[0] } } : {}),
  }));
  return {
    class_uid: 6003,
    class_name: 'API Activity',
    category_uid: 6,
    category_name: 'Application Activity',
    activity_id: activity.id,
    activity_name: activity.name,
    type_uid: 600300 + activity.id,
    severity_id: 1,
    severity: 'Informational',
    time: Date.parse(row.occurredAt),
    status_id: success ? 1 : 2,
    status: success ? 'Success' : 'Failure',
    status_detail: row.outcome,
    ...(row.userId !== null ? { actor: { user: { uid: row.userId, type_id: row.userRole === Role.ADMIN ? 2 : 1, type: row.userRole === Role.ADMIN ? 'Admin' : 'User' } } } : {}),
    api: { operation: row.action, ...(row.requestId !== null ? { request: { uid: row.requestId } } : {}) },
    ...(resources.length > 0 ? { resources } : {}),
    ...(row.ip !== null ? { src_endpoint: { ip: row.ip } } : {}),
    ...(row.userAgent !== null ? { http_request: { user_agent: row.userAgent } } : {}),
    metadata: { uid: row.id, version: '1.1.0', product: { name: 'audited-graphql-api', vendor_name: 'audited-graphql-api' } },
    unmapped: {
      occurred_at: row.occurredAt,
      user_role: row.userRole,
      owner_ids: row.ownerIds,
      admin_bypass: row.adminBypass,
      operation_name: row.operationName,
      details: row.details,
    },
  };
}

/** OCSF activity ids: 1 Create, 2 Read, 3 Update, 4 Delete, 99 Other (refusals, retention, logons). */
function activityOf(action: string): { id: number; name: string } {
  if (action.startsWith('create_')) return { id: 1, name: 'Create' };
  if (/^(admin_view|view|list|export)_/.test(action)) return { id: 2, name: 'Read' };
  if (action.startsWith('update_')) return { id: 3, name: 'Update' };
  if (action.startsWith('delete_')) return { id: 4, name: 'Delete' };
  return { id: 99, name: 'Other' };
}
