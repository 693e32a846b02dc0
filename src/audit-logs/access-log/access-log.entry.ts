import { globalIdOfResource } from '../../api/global-id';
import type { AccessLogPolicy } from '../../config/access-transparency';
import { adminReadOf, changeOfRecord, DATABASE_SESSION_KEY, sourceOf, type AuditLogRow, type DatabaseSession } from '../../audit/operations';
import { Role } from '../../api/role.enum';
import { recordsOwnedBy } from '../query/audit-log.disclosure';
import { accessReasonOf, type AuditOutcome } from '../query/audit-log.type';
import { DataAccess } from './access-log.type';

/**
 * A row of the trail as `owner` may see it: of the records it names, only theirs (a row about
 * several owners' records names each owner's in `details.recordsByOwner`), the fields read or
 * changed, and the admin as the policy allows. Nothing else of `details` leaves: a query of the
 * trail keeps its filter there, which may name other users.
 */
export function accessEntry(row: AuditLogRow, owner: string, policy: AccessLogPolicy): DataAccess {
  const theirs = recordsOwnedBy(row, owner);
  const records = theirs.map((id) => globalIdOfResource(row.resourceType, id));
  // A statement outside the API that changed several records keeps each one's change apart.
  const changed = theirs.map((id) => changeOfRecord(row.details, id)?.changes).filter(isObject) as Record<string, unknown>[];
  const changes = changed.length === 1 ? changed[0]! : null;
  const source = sourceOf(row.details);
  // Other rows' `details.fields` name the API's fields that caused them, not the record's.
  const readFields =
    row.outcome === 'success' && row.resourceType !== null && row.action === adminReadOf(row.resourceType) && Array.isArray(row.details.fields) ? row.details.fields : [];
  return Object.assign(new DataAccess(), {
    id: row.id,
    timestamp: row.occurredAt,
    action: row.action,
    outcome: row.outcome as AuditOutcome,
    resourceType: row.resourceType,
    records,
    fields: changed.length > 0 ? [...new Set(changed.flatMap((change) => Object.keys(change)))] : readFields.filter((field): field is string => typeof field === 'string'),
    changes,
    accessReason: accessReasonOf(row),
    source,
    admin: source === 'DATABASE' ? databaseActor(row, policy) : policy.showsAdmin === 'id' ? (row.userId ?? Role.ADMIN) : Role.ADMIN,
  });
}

/** Who made a change outside the API: the database role where staff identities are shown, else only `DATABASE`. */
function databaseActor(row: AuditLogRow, policy: AccessLogPolicy): string {
  const session = row.details[DATABASE_SESSION_KEY] as DatabaseSession;
  return policy.showsAdmin === 'id' ? session.role : 'DATABASE';
}

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null && !Array.isArray(value);
