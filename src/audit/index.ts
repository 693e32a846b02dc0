/**
 * The audit trail's machinery. Features declare *what* is audited with what this module exports;
 * *how* rows are built and stored stays inside it. Nothing outside `src/audit/` imports its other
 * files.
 */
export { auditActions, defineAuditAction, type AuditAction } from './audit-actions';
export type { AuditContext } from './audit-context';
export type { AuditEvent, AuditRequest } from './audit-event';
export type { AuditObserver } from './audit-observer';
export { auditLogs, type AuditLogRow } from './audit-log.table';
export { auditStatsDaily, auditStatsHourly, auditStatsUserDaily } from './audit-stats.table';
export { ensureAuditMonths, startAuditUpkeep } from './audit-upkeep';
export { AUDIT_RETENTION, auditMonthsBefore, dropAuditMonthsBefore, RetentionError, type DroppedAuditMonth, type RetentionResult } from './audit-retention';
export { AUDIT_OUTCOMES, type AuditOutcome } from './audit-outcome';
export { discardingAuditSink, postgresAuditSink, type AuditSink } from './audit-sink';
export { AuditTrail, type AuditTrailOptions } from './audit-trail';
export { auditTrailWritable } from './audit-trail-writable';
export { AuditedObject } from './audited-object';
export { AuditedReads, assertAuditCoverage } from './audited-reads';
export { auditedResource, type AuditedResource, type AuditedResourceOptions } from './audited-resource';
export {
  auditRowHashes,
  BundleError,
  hashedColumnsSql,
  headAnchor,
  loadOrCreateDevSigningKey,
  parseAnchors,
  publicKeyFromText,
  readDevSigningKey,
  rowHash,
  Sealer,
  SealWatcher,
  sealOnce,
  verifyBundle,
  verifyTrail,
  writeBundle,
  type Anchor,
  type BundleCounts,
  type HashedRow,
  type VerifyBundleResult,
} from './integrity';
export { OwnedRecords, type OwnedRecordsScope } from './owned-records';
export { ApolloServerPluginAuditTrail, type AuditTrailPluginOptions } from './plugin';
export { WITHHELD } from './record-snapshot';
export { settleBeforeAudit } from './root-fields';
export { ACCESS_DENIED, AUTHENTICATE, INVALID_ARGUMENT, QUERY_REFUSED, REQUEST_LIMITED } from './request-actions';
export type { RequestAudit } from './request-audit';
