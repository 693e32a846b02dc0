import type { Logger } from '../config/logger';
import type { Db, DbExecutor } from '../db/database';
import { AccessDenied } from './access-denied';
import { assertDefinedAction } from './audit-actions';
import type { AuditEvent, AuditRequest } from './audit-event';
import type { AuditSink } from './audit-sink';
import type { AuditedResource } from './audited-resource';
import { describeFailure } from './failure-details';

/** The action and resource a change is about, known before it starts. */
export interface ChangeTarget {
  readonly action: string;
  readonly resourceType: string;
  /** Unknown for creations until the row exists. */
  readonly resourceId?: string;
}

/** What a change's `success` row says, and the statement that completes the change. */
export interface PreparedChange<T> {
  readonly resourceId: string;
  readonly adminBypass: boolean;
  readonly details: Record<string, unknown>;
  /**
   * Completes the change. {@link RequestAudit.change} starts it itself and sends the audit row right
   * behind it on the same connection, sparing a round trip while the change holds its locks; so the
   * row above must already say everything, whatever this statement returns.
   */
  readonly complete: () => PromiseLike<T>;
}

interface PendingAdminRead {
  readonly resource: AuditedResource;
  readonly resourceId: string;
  readonly ownerId: unknown;
  readonly fields: Set<string>;
}

/**
 * One request's audit trail: every row the request causes is written through it. Changes are
 * recorded in their own transaction; denials right away, outside any transaction that could roll
 * them back; reads are buffered and written in one INSERT by {@link flush} before the response
 * leaves (the audit plugin withholds data if that fails).
 */
export class RequestAudit {
  private readonly adminReads = new Map<string, PendingAdminRead>();
  private readonly reads: AuditEvent[] = [];

  constructor(
    private readonly db: Db,
    readonly request: AuditRequest,
    private readonly sink: AuditSink,
    private readonly logger: Logger,
  ) {}

  /** Whether admin reads are noted; `false` only in the benchmark's audit-OFF server. */
  get recordsReads(): boolean {
    return this.sink.recordsReads;
  }

  /** Notes that an admin read `fields` of a record owned by someone else. */
  noteAdminRead(resource: AuditedResource, resourceId: string, ownerId: unknown, fields: readonly string[]): void {
    const key = `${resource.type}\u0000${resourceId}`;
    let pending = this.adminReads.get(key);
    if (!pending) {
      pending = { resource, resourceId, ownerId, fields: new Set() };
      this.adminReads.set(key, pending);
    }
    for (const field of fields) pending.fields.add(field);
  }

  /** Queues a successful read event, written by {@link flush}. */
  noteRead(event: Omit<AuditEvent, 'outcome'>): void {
    assertDefinedAction(event.action);
    this.reads.push({ ...event, outcome: 'success' });
  }

  /** Writes every buffered read in one INSERT; throws if the trail could not be written. */
  async flush(): Promise<void> {
    const events = [...this.reads, ...[...this.adminReads.values()].map(adminReadEvent)];
    this.reads.length = 0;
    this.adminReads.clear();
    await this.sink.write(this.db, this.request, events);
  }

  /** Records a denied attempt now, on its own, so no rollback can take it away. */
  async denied(event: Omit<AuditEvent, 'outcome'>): Promise<void> {
    assertDefinedAction(event.action);
    await this.sink.write(this.db, this.request, [{ ...event, outcome: 'denied' }]);
  }

  /**
   * Runs `prepare` in a transaction, then completes the change with its `success` row in that same
   * transaction: both commit or neither does. {@link AccessDenied} from `prepare` becomes a `denied`
   * row and the client error it carries; any other failure leaves an `error` row where the database
   * allows. `OwnedRecords` is the caller; features declare resources rather than call this.
   */
  async change<T>(target: ChangeTarget, prepare: (tx: DbExecutor) => Promise<PreparedChange<T>>): Promise<T> {
    assertDefinedAction(target.action);
    try {
      return await this.db.transaction(async (tx) => {
        const change = await prepare(tx);
        const row: AuditEvent = {
          action: target.action,
          resourceType: target.resourceType,
          resourceId: change.resourceId,
          outcome: 'success',
          adminBypass: change.adminBypass,
          details: change.details,
        };
        const [result] = await Promise.all([change.complete(), this.sink.write(tx, this.request, [row])]);
        return result;
      });
    } catch (error) {
      if (error instanceof AccessDenied) {
        await this.denied({ ...target, details: error.details });
        throw error.clientError;
      }
      await this.recordFailure(target, error);
      throw error;
    }
  }

  private async recordFailure(target: ChangeTarget, error: unknown): Promise<void> {
    try {
      await this.sink.write(this.db, this.request, [{ ...target, outcome: 'error', details: describeFailure(error) }]);
    } catch (auditError) {
      // The change did not commit, so nothing is unrecorded; the operator still needs to know.
      this.logger.error({ err: auditError, action: target.action }, 'could not record a failed change in the audit trail');
    }
  }
}

function adminReadEvent(read: PendingAdminRead): AuditEvent {
  return {
    action: read.resource.actions.adminRead.name,
    outcome: 'success',
    resourceType: read.resource.type,
    resourceId: read.resourceId,
    adminBypass: true,
    details: { fields: [...read.fields], ownerId: read.ownerId },
  };
}
