import { globalIdOfResource } from '../../api/global-id';
import type { AccessLogPolicy } from '../../config/access-transparency';
import { adminReadOf, type AuditLogRow } from '../../audit/operations';
import { Role } from '../../api/role.enum';
import { recordOwnersOf } from '../query/audit-log.disclosure';
import { accessReasonOf, type AuditOutcome } from '../query/audit-log.type';
import { DataAccess } from './access-log.type';

/**
 * A row of the trail as `owner` may see it: of the records it names, only theirs (a row about
 * several owners' records names each owner's in `details.recordsByOwner`), the fields read or
 * changed, and the admin as the policy allows. Nothing else of `details` leaves: a query of the
 * trail keeps its filter there, which may name other users.
 */
export function accessEntry(row: AuditLogRow, owner: string, policy: AccessLogPolicy): DataAccess {
  const owners = recordOwnersOf(row);
  const records = [...owners].filter(([, recordOwner]) => recordOwner === owner).map(([id]) => globalIdOfResource(row.resourceType, id));
  const changes = isObject(row.details.changes) ? (row.details.changes as Record<string, unknown>) : null;
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
    fields: changes ? Object.keys(changes) : readFields.filter((field): field is string => typeof field === 'string'),
    changes,
    accessReason: accessReasonOf(row),
    admin: policy.showsAdmin === 'id' ? (row.userId ?? Role.ADMIN) : Role.ADMIN,
  });
}

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null && !Array.isArray(value);
