import { AccessReasonRequired, InvalidInput } from '../../core/errors';
import type { Db, DbExecutor } from '../../db/database';
import { REASON_REQUIRED } from '../model/access-reason';
import { AccessDenied } from './access-denied';
import { AdminReads, adminReadOfRecord } from './admin-reads';
import type { AuditAction, AuditActionRegistry } from '../model/audit-actions';
import type { AuditEvent, AuditRequest } from './audit-event';
import type { AuditObserver } from './audit-observer';
import type { AuditSink } from '../storage/audit-sink';
import type { AuditedResource } from '../model/audited-resource';
import { describeFailure } from '../../core/failure';
import { MergedEvents } from './merged-events';

/** A built statement (a Drizzle insert, update or delete) that changes a declared resource's table. */
export type ChangeStatement<R> = PromiseLike<R> & { toSQL(): { sql: string } };

/** The action and resource a change is about, known before it starts. */
export interface ChangeTarget {
  readonly action: AuditAction;
  /** Unknown for creations until the row exists. */
  readonly resourceId?: string;
}

/** What a change's `success` row says, and the statement that completes the change. */
export interface PreparedChange<T> {
  readonly resourceId: string;
  /** The owner of the record changed. */
  readonly ownerId: string;
  readonly adminBypass: boolean;
  readonly details: Record<string, unknown>;
  /**
   * Completes the change. {@link RequestAudit.change} starts it itself and sends the audit rows right
   * behind it on the same connection, sparing a round trip while the change holds its locks; so the
   * rows must already say everything, whatever this statement returns.
   */
  readonly complete: () => PromiseLike<T>;
}

/** While a mutation field runs: the record it returns, read with `fields`, and which were recorded with their change. */
interface ChangeRead {
  readonly resource: AuditedResource;
  readonly fields: readonly string[];
  /** Whether a change has taken it: a mutation's record is the one its (first) change is about. */
  taken: boolean;
  /** The ids of the records whose read was recorded in their change's transaction. */
  readonly recorded: Set<string>;
}

/**
 * One request's audit trail: every row the request causes is written through it. A change is
 * recorded in its own transaction, together with the admin's read of the record it returns, so a
 * committed change is never answered "withheld". Everything else — reads, refusals, failures — is
 * buffered and written in one INSERT by {@link flush} once every root field has settled and before
 * the response leaves; the audit plugin withholds the response if that fails.
 */
export class RequestAudit {
  private readonly adminReads = new AdminReads();
  private readonly reads = new MergedEvents();
  private readonly denials = new MergedEvents();
  private readonly failures: AuditEvent[] = [];
  private readonly inFlight = new Set<PromiseLike<unknown>>();
  private changeRead: ChangeRead | undefined;

  constructor(
    private readonly db: Db,
    readonly request: AuditRequest,
    private readonly sink: AuditSink,
    /** The actions its rows may carry (the server's registry), which features read too (`auditActions`, exports). */
    readonly actions: AuditActionRegistry,
    private readonly observer?: AuditObserver,
    private readonly reasonRequired = false,
  ) {}

  /**
   * Whether this request may read or change records its caller does not own: always, unless the
   * policy requires a reason (`ADMIN_ACCESS_REASON=required`) and the request stated none.
   */
  get mayBypass(): boolean {
    return !this.reasonRequired || this.request.accessReason !== null;
  }

  /**
   * Refuses an admin's read of others' records for want of a reason: queues the `denied` row of
   * `event` (reason `access_reason_required`) and returns the error the field fails with.
   */
  bypassRefused(event: Omit<AuditEvent, 'outcome' | 'adminBypass'>, field: string): AccessReasonRequired {
    this.denied({ ...event, adminBypass: true, details: { ...event.details, reason: REASON_REQUIRED } }, field);
    return new AccessReasonRequired();
  }

  /** Whether admin reads are noted; `false` only in the benchmark's audit-OFF server. */
  get recordsReads(): boolean {
    return this.sink.recordsReads;
  }

  /** Notes that an admin read `fields` of a record owned by someone else. */
  noteAdminRead(resource: AuditedResource, resourceId: string, ownerId: string, fields: readonly string[]): void {
    this.adminReads.note(resource, resourceId, ownerId, fields);
  }

  /**
   * Runs a mutation field's resolver, which returns a record of `resource` read with `fields`: if
   * its change is to someone else's record, {@link change} records the admin's read in the change's
   * own transaction, so a committed change is never answered "withheld". Mutation fields run one
   * after another, so one at a time is in here. Resolves to the result and the ids of the records
   * whose read was so recorded, which the caller does not note again.
   */
  async readingChange<T>(resource: AuditedResource, fields: readonly string[], resolve: () => Promise<T>): Promise<{ result: T; recorded: ReadonlySet<string> }> {
    const scope: ChangeRead = { resource, fields, taken: false, recorded: new Set() };
    this.changeRead = scope;
    try {
      return { result: await resolve(), recorded: scope.recorded };
    } finally {
      if (this.changeRead === scope) this.changeRead = undefined;
    }
  }

  /** Queues a successful read by `field` (e.g. `Query.auditLogs`); one row per kind is written by {@link flush}. */
  noteRead(event: Omit<AuditEvent, 'outcome'>, field: string): void {
    this.reads.add({ ...event, outcome: 'success' }, field);
  }

  /** Queues a refused attempt; one row per kind and reason is written by {@link flush}, outside any transaction. */
  denied(event: Omit<AuditEvent, 'outcome'>, field?: string): void {
    this.denials.add({ ...event, outcome: 'denied' }, field);
  }

  /**
   * Queues an `error` row for work that failed after it started (an export cut short); its
   * `details` name the failure, never its message. Written by {@link flush}.
   */
  failed(event: Omit<AuditEvent, 'outcome'>, error: unknown): void {
    this.failures.push({ ...event, outcome: 'error', details: { ...event.details, ...describeFailure(error) } });
  }

  /**
   * Writes a `success` row for `event` in the caller's transaction `tx`, so that it commits with the
   * work it records or not at all (retention's row with the months it drops). For work that is not
   * a change of a declared resource, which {@link change} records.
   */
  async recordInTransaction(tx: DbExecutor, event: Omit<AuditEvent, 'outcome'>): Promise<void> {
    const row: AuditEvent = { ...event, outcome: 'success' };
    this.actions.check(row.action);
    await this.sink.writeInTransaction(tx, this.request, [row]);
    this.observer?.rowsWritten([row], this.request);
  }

  /** Keeps {@link flush} waiting until `result` settles: a root field still running may yet record something. */
  settles<T>(result: T): T {
    if (isThenable(result)) {
      this.inFlight.add(result);
      const settled = () => this.inFlight.delete(result);
      result.then(settled, settled);
    }
    return result;
  }

  /** Waits for every root field, then writes everything buffered in one INSERT; throws if it could not. */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    const events = [
      ...this.reads.take(),
      ...this.adminReads.take(),
      ...this.denials.take(),
      ...this.failures.splice(0),
    ];
    for (const event of events) this.actions.check(event.action);
    await this.sink.write(this.request, events);
    if (events.length > 0) this.observer?.rowsWritten(events, this.request);
  }

  /**
   * Runs `statement`, which changes a declared resource's table in the transaction `tx` of a
   * {@link change}, after telling the database backstop that this request records it (so it does
   * not record it a second time). Both are sent at once, in that order, on `tx`'s connection.
   */
  changeStatement<R>(tx: DbExecutor, statement: ChangeStatement<R>): Promise<R> {
    const claimed = this.sink.claimStatement(tx, statement.toSQL().sql);
    const done = statement.then((result) => result);
    return Promise.all([claimed, done]).then(([, result]) => result);
  }

  /**
   * Runs `prepare` in a transaction, then completes the change with its `success` row in that same
   * transaction: both commit or neither does. {@link AccessDenied} from `prepare` becomes a `denied`
   * row and the client error it carries, as does {@link InvalidInput} (reason `invalid_input`); any
   * other failure leaves an `error` row. `OwnedRecords` is the caller; features declare resources
   * rather than call this.
   */
  async change<T>(target: ChangeTarget, prepare: (tx: DbExecutor) => Promise<PreparedChange<T>>): Promise<T> {
    this.actions.check(target.action);
    const changeRead = this.changeRead?.taken === false ? this.changeRead : undefined;
    if (changeRead) changeRead.taken = true;
    let committed: { result: T; rows: readonly AuditEvent[] };
    try {
      committed = await this.db.transaction(async (tx) => {
        const change = await prepare(tx);
        const rows: AuditEvent[] = [
          {
            action: target.action,
            resourceId: change.resourceId,
            ownerIds: [change.ownerId],
            outcome: 'success',
            adminBypass: change.adminBypass,
            details: change.details,
            holdsRecordValues: true,
          },
        ];
        // An admin's read of the record the change returns, if it is someone else's.
        const read = changeRead?.resource.type === target.action.resourceType && change.adminBypass ? changeRead : undefined;
        if (read) rows.push(adminReadOfRecord(read.resource, change.resourceId, change.ownerId, read.fields));
        const [result] = await Promise.all([change.complete(), this.sink.writeInTransaction(tx, this.request, rows)]);
        if (read) read.recorded.add(change.resourceId);
        return { result, rows };
      });
    } catch (error) {
      if (error instanceof AccessDenied) {
        this.denied({ ...target, details: error.details, ownerIds: error.ownerId === undefined ? [] : [error.ownerId], adminBypass: error.adminBypass });
        throw error.clientError;
      }
      if (error instanceof InvalidInput) {
        this.denied({ ...target, details: { reason: 'invalid_input', field: error.field } });
        throw error;
      }
      this.failed(target, error);
      throw error;
    }
    this.observer?.rowsWritten(committed.rows, this.request);
    return committed.result;
  }

}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
