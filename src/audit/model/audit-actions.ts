/**
 * What kind of access an action is, as OCSF's API Activity class counts it (`activity_id` 1
 * Create, 2 Read, 3 Update, 4 Delete, 99 Other: refusals, logons, retention).
 */
export type AuditActivity = 'create' | 'read' | 'update' | 'delete' | 'other';

/** One kind of event the trail records, as dashboards filter on it and auditors read it. */
export interface AuditAction {
  /** The exact, stable string stored in `action`, e.g. `update_item`. */
  readonly name: string;
  /** The `resource_type` its rows carry, or null when it is about the request itself. */
  readonly resourceType: string | null;
  /** What kind of access it is: exports name it for SIEMs (OCSF `activity_id`). */
  readonly activity: AuditActivity;
  /** When it is recorded. */
  readonly description: string;
  /** What its rows keep in `details`. */
  readonly details: string;
}

const registry = new Map<string, AuditAction>();

/**
 * Adds an action to the registry that the schema's descriptions and the action table of docs/audit-trail.md are
 * generated from. Defining the same name twice is a programming error: two features would share
 * one dashboard filter.
 */
export function defineAuditAction(action: AuditAction): AuditAction {
  if (registry.has(action.name)) throw new Error(`audit action ${action.name} is defined twice`);
  registry.set(action.name, action);
  return action;
}

/** The action stored as `name`; `undefined` for one no code defines (any more). */
export function auditActionNamed(name: string): AuditAction | undefined {
  return registry.get(name);
}

/** Every defined action, in the order the features defined them. */
export function auditActions(): readonly AuditAction[] {
  return [...registry.values()];
}
