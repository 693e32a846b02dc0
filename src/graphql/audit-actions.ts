import { AuditActionRegistry, BUILT_IN_AUDIT_ACTIONS } from '../audit/wiring';
import { API_FEATURES } from './features';

/**
 * Every action this server records, in one list: the trail's own (refusals at the doors,
 * retention), then each feature's (`auditActions` in its `<name>.feature.ts`: its resources' and
 * its own). The trail refuses a row of any other; the schema's descriptions of `action`, the
 * `auditActions` query, the OCSF export's activities and the action table of
 * docs/audit-trail.md are all read from it.
 */
export const AUDIT_ACTIONS = new AuditActionRegistry([...BUILT_IN_AUDIT_ACTIONS, ...API_FEATURES.flatMap((feature) => feature.auditActions ?? [])]);
