import { DATABASE_SESSION_KEY, type AuditActionRegistry, type AuditActivity, type DatabaseSession } from '../../audit/operations';
import { Role } from '../../auth/viewer';
import type { ExportedRow } from './audit-log.exported-row';

/**
 * A row of the trail as an OCSF 1.1 "API Activity" event (class 6003, category 6 "Application
 * Activity"), the shape SIEMs (Amazon Security Lake, Splunk, Sentinel) ingest. Every event carries
 * the attributes the class requires (`actor`, `api`, `src_endpoint`, `metadata` among them), even for
 * a row without a user or an IP, since a SIEM may reject an event without them; an unknown optional
 * attribute is left out rather than `null`. What OCSF has no attribute for goes under `unmapped`,
 * keyed by column.
 */
export function ocsfApiActivity(row: ExportedRow, actions: AuditActionRegistry): Record<string, unknown> {
  const activity = OCSF_ACTIVITIES[actions.named(row.action)?.activity ?? 'other'];
  const success = row.outcome === 'success';
  const resources = (row.resourceId !== null ? [row.resourceId] : row.resourceIds).map((uid) => ({
    uid,
    ...(row.resourceType !== null ? { type: row.resourceType } : {}),
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
    actor: actorOf(row),
    api: { operation: row.action, ...(row.requestId !== null ? { request: { uid: row.requestId } } : {}) },
    ...(resources.length > 0 ? { resources } : {}),
    src_endpoint: row.ip !== null ? { ip: row.ip } : UNKNOWN_SOURCE,
    ...(row.userAgent !== null ? { http_request: { user_agent: row.userAgent } } : {}),
    metadata: { uid: row.id, version: '1.1.0', product: { name: 'audited-graphql-api', vendor_name: 'audited-graphql-api' } },
    unmapped: {
      occurred_at: row.occurredAt,
      user_role: row.userRole,
      owner_ids: row.ownerIds,
      admin_bypass: row.adminBypass,
      operation_name: row.operationName,
      details: row.details,
      // OCSF 1.1 has no attribute for why an actor accessed a resource.
      access_reason: row.accessReason,
      access_reference: row.accessReference,
      break_glass: row.breakGlass,
    },
  };
}

/**
 * Who a row without a user stands for: a request without a token, or a command line run
 * (`operation_name` says which). OCSF's `actor` needs a `user` (or a process, session, invoker), and
 * a user one of `uid`, `name`, `account`: a `name`, so that it is never taken for a user whose id
 * is `anonymous`.
 */
const ANONYMOUS = { name: 'anonymous', type_id: 0, type: 'Unknown' } as const;

/**
 * Where a row without an IP came from: a command line run (`npm run audit:export`) or the
 * retention job. OCSF's `src_endpoint` is required and needs one of `ip`, `name`, `hostname`, `uid`…
 */
const UNKNOWN_SOURCE = { name: 'unknown' } as const;

/**
 * Who acted: the application user, or for a change made outside the API the database session —
 * its login role as the user (type Other: a role, not a person the API knows), the client's
 * `application_name` and the backend's pid.
 */
function actorOf(row: ExportedRow): Record<string, unknown> {
  const session = row.details[DATABASE_SESSION_KEY] as DatabaseSession | undefined;
  if (!session) return { user: userOf(row) };
  return { user: { name: session.role, type_id: 99, type: 'Other' }, app_name: session.applicationName, process: { pid: session.backendPid } };
}

/** The row's user as OCSF's `user`: 1 User or 2 Admin, or {@link ANONYMOUS}. */
function userOf(row: ExportedRow): Record<string, unknown> {
  if (row.userId === null) return ANONYMOUS;
  return row.userRole === Role.ADMIN ? { uid: row.userId, type_id: 2, type: 'Admin' } : { uid: row.userId, type_id: 1, type: 'User' };
}

/** OCSF's activity for each kind the actions declare; an action the server no longer lists is Other. */
const OCSF_ACTIVITIES: Record<AuditActivity, { id: number; name: string }> = {
  create: { id: 1, name: 'Create' },
  read: { id: 2, name: 'Read' },
  update: { id: 3, name: 'Update' },
  delete: { id: 4, name: 'Delete' },
  other: { id: 99, name: 'Other' },
};

