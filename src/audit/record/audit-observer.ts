import type { AuditEvent, AuditRequest } from './audit-event';

/**
 * What the audit trail reports about its own writes, for whoever watches the server (metrics).
 * The module keeps no counts itself and knows nothing of how they are exported.
 */
export interface AuditObserver {
  /** `rows` of `request` are committed: after their group commit, or after the transaction of the change they record. */
  rowsWritten(rows: readonly Pick<AuditEvent, 'action' | 'outcome' | 'adminBypass'>[], request: AuditRequest): void;
  /**
   * One group-commit INSERT (the rows of every request that waited for it) ended after `seconds`,
   * from the statement's start to its commit; `committed` is false when it failed.
   */
  groupCommitEnded(seconds: number, rows: number, committed: boolean): void;
}
