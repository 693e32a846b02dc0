import { AuditActionRegistry, BUILT_IN_AUDIT_ACTIONS } from '../audit/wiring';
import { AUDIT_LOG_ACTIONS } from '../audit-logs/query/audit-log.actions';
import { itemResource } from '../items/item.audit';

/**
 * Every action this server records, in one list: the trail's own (refusals at the doors,
 * retention), then each declared resource's, then each feature's. The trail refuses a row of any
 * other; the schema's descriptions of `action`, the `auditActions` query, the OCSF export's
 * activities and the action table of docs/audit-trail.md are all read from it. A new resource or
 * feature adds its actions here.
 */
export const AUDIT_ACTIONS = new AuditActionRegistry([
  ...BUILT_IN_AUDIT_ACTIONS,
  ...Object.values(itemResource.actions),
  ...AUDIT_LOG_ACTIONS,
]);
