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

/** An action's name: what the `action` column stores and dashboards filter on. */
const ACTION_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * Declares an action: a value, registered nowhere. The server records only the actions listed in
 * its {@link AuditActionRegistry}, which the schema's descriptions and the action table of
 * docs/audit-trail.md are generated from.
 */
export function defineAuditAction(action: AuditAction): AuditAction {
  if (!ACTION_NAME.test(action.name)) throw new Error(`audit action name ${JSON.stringify(action.name)} is not snake_case`);
  return Object.freeze({ ...action });
}

/**
 * The actions a server records, listed explicitly where the server is assembled
 * (`src/graphql/audit-actions.ts`): the trail's own, each declared resource's and each feature's.
 * A request may record only these; two with one name are a programming error (two features would
 * share one dashboard filter).
 */
export class AuditActionRegistry {
  private readonly byName = new Map<string, AuditAction>();

  constructor(actions: Iterable<AuditAction>) {
    for (const action of actions) {
      if (this.byName.has(action.name)) throw new Error(`audit action ${action.name} is listed twice`);
      this.byName.set(action.name, action);
    }
  }

  /** Every action, in the order listed. */
  all(): readonly AuditAction[] {
    return [...this.byName.values()];
  }

  /** The action stored as `name`; `undefined` for one not listed (a row of an action since removed). */
  named(name: string): AuditAction | undefined {
    return this.byName.get(name);
  }

  /** Throws unless `action` is this very one of the registry: no row may carry an action that is not listed. */
  check(action: AuditAction): void {
    if (this.byName.get(action.name) !== action) throw new Error(`audit action ${action.name} is not in the server's registry (src/graphql/audit-actions.ts)`);
  }
}
