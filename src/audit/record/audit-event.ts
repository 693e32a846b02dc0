import type { Viewer } from '../../auth/viewer';
import type { AccessReason } from '../model/access-reason';
import type { AuditAction } from '../model/audit-actions';
import type { AuditOutcome } from '../model/audit-outcome';

/** What a feature says happened; the audit module adds who, when and from where. */
export interface AuditEvent {
  /** What happened: an action from `defineAuditAction`, such as `update_item`. */
  readonly action: AuditAction;
  readonly outcome: AuditOutcome;
  /** The type of the records it is about, when not the action's own (a query of the trail that showed items). */
  readonly resourceType?: string | null;
  readonly resourceId?: string | null;
  /** The records it is about when there are several, in place of `resourceId`. */
  readonly resourceIds?: readonly string[];
  /** The owners (user ids) of the records it is about. */
  readonly ownerIds?: readonly string[];
  /**
   * Each record's owner (record id → user id) when the records have several owners, so that each
   * owner can be shown their own records alone (`myDataAccess`); stored as `details.recordsByOwner`.
   */
  readonly recordOwners?: ReadonlyMap<string, string>;
  /** True when an admin acted on data they do not own, outside the normal owner scoping. */
  readonly adminBypass?: boolean;
  readonly details?: Record<string, unknown>;
  /**
   * `details` are the record's own values (a snapshot, a diff), bounded by its validation: kept
   * whole, so the trail replays the data exactly. Everything else in `details` is capped.
   */
  readonly holdsRecordValues?: boolean;
}

/** Who is behind one HTTP request and where it came from, as every audit row records it. */
export interface AuditRequest {
  readonly viewer: Viewer | undefined;
  readonly requestId: string;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** Why the request accesses others' records, as it stated it (`Access-Reason`); null: it stated none. */
  readonly accessReason: AccessReason | null;
  /** Known once Apollo has resolved the operation. */
  operationName: string | null;
}
