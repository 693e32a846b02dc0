import type { Logger } from '../config/logger';
import type { Db, DbExecutor } from '../db/database';
import { AccessDenied } from './access-denied';
import type { AuditEvent, AuditRequest } from './audit-event';
import type { AuditedResourceOptions } from './audited-resource';
import { insertAuditRows, type AuditWriter } from './audit.writer';

/** What a change tells the audit trail once it has been made, or while its last statement runs. */
export interface AuditedChange<T> {
  /**
   * The outcome, or the change's last statement still in flight when everything the audit row
   * says is already known: the row is then sent right behind it on the same connection, sparing
   * a round trip while the change holds its locks.
   */
  readonly result: T | PromiseLike<T>;
  readonly resourceId: string;
  readonly adminBypass: boolean;
  readonly details: Record<string, unknown>;
}

/** How a {@link RequestAudit} stores rows; production uses the defaults. */
export interface RequestAuditOptions {
  /** Defaults to {@link insertAuditRows}; the benchmark's audit-OFF server passes one that stores nothing. */
  readonly write?: AuditWriter;
  /** Defaults to `true`; the benchmark's audit-OFF server turns read recording off. */
  readonly recordReads?: boolean;
}

/** The action and resource a change is about, known before it starts. */
export interface ChangeTarget {
  readonly action: string;
  readonly resourceType: string;
  /** Unknown for creations until the row exists. */
  readonly resourceId?: string;
}

interface PendingAdminRead {
  readonly resource: AuditedResourceOptions;
  readonly resourceId: string;
  readonly ownerId: unknown;
  readonly fields: Set<string>;
}

/**
 * One request's audit trail. Changes are recorded in their own transaction; denials right away,
 * outside any transaction that could roll them back; reads are buffered and written in one INSERT
 * by {@link flush} before the response leaves (the audit plugin withholds data if that fails).
 */
export class RequestAudit {
  private readonly adminReads = new Map<string, PendingAdminRead>();
  private readonly reads: AuditEvent[] = [];

  private readonly write: AuditWriter;
  /** Whether admin reads are noted; `false` only in the benchmark's audit-OFF server. */
  readonly recordsReads: boolean;

  constructor(
    private readonly db: Db,
    readonly request: AuditRequest,
    private readonly logger: Logger,
    options: RequestAuditOptions = {},
  ) {
    this.write = options.write ?? insertAuditRows;
    this.recordsReads = options.recordReads ?? true;
  }

  /** Notes that an admin read `fields` of a record owned by someone else. */
  noteAdminRead(resource: AuditedResourceOptions, resourceId: string, ownerId: unknown, fields: readonly string[]): void {
    const key = `${resource.resourceType}\u0000${resourceId}`;
    let pending = this.adminReads.get(key);
    if (!pending) {
      pending = { resource, resourceId, ownerId, fields: new Set() };
      this.adminReads.set(key, pending);
    }
    for (const field of fields) pending.fields.add(field);
  }

  /** Queues a successful read event, written by {@link flush}. */
  noteRead(event: Omit<AuditEvent, 'outcome'>): void {
    this.reads.push({ ...event, outcome: 'success' });
  }

  /** Writes every buffered read in one INSERT; throws if the trail could not be written. */
  async flush(): Promise<void> {
    const events = [...this.reads, ...[...this.adminReads.values()].map(adminReadEvent)];
    this.reads.length = 0;
    this.adminReads.clear();
    await this.write(this.db, this.request, events);
  }

  /** Records a denied attempt now, on its own, so no rollback can take it away. */
  async denied(event: Omit<AuditEvent, 'outcome'>): Promise<void> {
    await this.write(this.db, this.request, [{ ...event, outcome: 'denied' }]);
  }

  /**
   * Runs `work` in a transaction and writes its `success` row in that same transaction: both
   * commit or neither does. {@link AccessDenied} from `work` becomes a `denied` row and the
   * client error it carries; any other failure leaves an `error` row where the database allows.
   */
  async change<T>(target: ChangeTarget, work: (tx: DbExecutor) => Promise<AuditedChange<T>>): Promise<T> {
    try {
      return await this.db.transaction(async (tx) => {
        const change = await work(tx);
        const [result] = await Promise.all([
          change.result,
          this.write(tx, this.request, [
            {
              action: target.action,
              resourceType: target.resourceType,
              resourceId: change.resourceId,
              outcome: 'success',
              adminBypass: change.adminBypass,
              details: change.details,
            },
          ]),
        ]);
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
      await this.write(this.db, this.request, [{ ...target, outcome: 'error', details: describeFailure(error) }]);
    } catch (auditError) {
      // The change did not commit, so nothing is unrecorded; the operator still needs to know.
      this.logger.error({ err: auditError, action: target.action }, 'could not record a failed change in the audit trail');
    }
  }
}

function adminReadEvent(read: PendingAdminRead): AuditEvent {
  return {
    action: read.resource.adminReadAction,
    outcome: 'success',
    resourceType: read.resource.resourceType,
    resourceId: read.resourceId,
    adminBypass: true,
    details: { fields: [...read.fields], ownerId: read.ownerId },
  };
}

/** Enough to investigate a failure without copying SQL or values into the trail. */
function describeFailure(error: unknown): Record<string, unknown> {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  return {
    error: typeof name === 'string' ? name : 'Error',
    ...(typeof code === 'string' ? { code } : {}),
  };
}
