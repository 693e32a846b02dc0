import { AuditActionRegistry, BUILT_IN_AUDIT_ACTIONS } from '../audit/wiring';
import type { ApiFeature } from '../api/feature';
import type { AuditedResource } from '../audit';
import { API_FEATURES } from './features';

/**
 * Every action a server of `features` records, in one list: the trail's own (refusals at the doors,
 * retention), then each feature's (in its `<name>.feature.ts`: its resources' actions and its own
 * `auditActions`). The trail refuses a row of any other; the schema's descriptions of `action`, the
 * `auditActions` query, the OCSF export's activities and the action table of
 * docs/audit-trail.md are all read from it.
 */
export function auditActionsOf(features: readonly ApiFeature[]): AuditActionRegistry {
  return new AuditActionRegistry([
    ...BUILT_IN_AUDIT_ACTIONS,
    ...features.flatMap((feature) => [...auditedResourcesOf([feature]).flatMap((resource) => Object.values(resource.actions)), ...(feature.auditActions ?? [])]),
  ]);
}

/** The audited resources `features` declare. */
export const auditedResourcesOf = (features: readonly ApiFeature[]): readonly AuditedResource[] => features.flatMap((feature) => feature.resources ?? []);

/** The API's registry: every feature's actions. */
export const AUDIT_ACTIONS = auditActionsOf(API_FEATURES);
