/**
 * The audit trail, as the tools that read, check and keep it see it: its tables and rows, the
 * catalogue of actions, row hashes, seals, verification, anchors, export bundles and retention.
 * For the command-line tools, the trail's own query features (`src/audit-logs/`) and the
 * benchmarks.
 */
export { auditLogs, type AuditLogRow } from './storage/audit-log.table';
export { auditStatsDaily, auditStatsHourly, auditStatsUserDaily } from './storage/audit-stats.table';
export type { AuditEvent } from './record/audit-event';
export { adminReadOf } from './model/audited-resource';
export { AUDIT_OUTCOMES, type AuditOutcome } from './model/audit-outcome';
export type { AuditActionRegistry, AuditActivity } from './model/audit-actions';
export { postgresAuditSink, type AuditSink } from './storage/audit-sink';
export { backstopSql } from './storage/backstop';
export { backstopProblems } from './storage/backstop-check';
export { auditMonthsBefore, dropAuditMonthsBefore, RetentionError, type DroppedAuditMonth } from './storage/audit-retention';
export {
  auditRowHashes,
  BundleError,
  chainProgress,
  hashedColumnsSql,
  headAnchor,
  parseAnchors,
  publicKeyFromText,
  readDevSigningKey,
  rowHash,
  sealOnce,
  SealWatcher,
  verifyBundle,
  verifyTrail,
  writeBundle,
  type Anchor,
  type BundleCounts,
  type HashedRow,
  type VerifyBundleResult,
} from './integrity';
export { CHANGE_SOURCES, changeOfRecord, DATABASE_SESSION_KEY, sourceOf, type ChangeSource, type DatabaseSession } from './model/change-source';
