import type { AccessReasonMode } from '../../config/access-transparency';
import type { Db } from '../../db/database';
import type { AuditActionRegistry } from '../model/audit-actions';
import type { AuditRequest } from './audit-event';
import type { AuditObserver } from './audit-observer';
import { postgresAuditSink, type AuditSink } from '../storage/audit-sink';
import { RequestAudit } from './request-audit';

/** What {@link AuditTrail} writes with. */
export interface AuditTrailOptions {
  readonly db: Db;
  /** The actions its rows may carry: the server's registry. */
  readonly actions: AuditActionRegistry;
  /** Where rows go. Defaults to `audit_logs` ({@link postgresAuditSink}); only the benchmark's audit-OFF server passes another. */
  readonly sink?: AuditSink;
  /** Told of every committed row and every group commit (metrics); none by default. */
  readonly observer?: AuditObserver;
  /**
   * Whether admins must state a reason to read or change others' records (`required`); the other
   * modes let them, recording a reason when stated.
   * @defaultValue `optional`
   */
  readonly accessReasons?: AccessReasonMode;
}

/** The application's audit trail; it hands each request the one object its rows go through. */
export class AuditTrail {
  private readonly sink: AuditSink;

  constructor(private readonly options: AuditTrailOptions) {
    this.sink = options.sink ?? postgresAuditSink(options.db, options.observer);
  }

  forRequest(request: AuditRequest): RequestAudit {
    return new RequestAudit(this.options.db, request, this.sink, this.options.actions, this.options.observer, this.options.accessReasons === 'required');
  }
}
