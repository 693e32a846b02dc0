/**
 * The audit trail, as features see it: what they declare to have their data audited. *How* rows
 * are built and stored stays inside `src/audit/`. The server's wiring has its own door
 * (`./wiring`), and so do the tools that read, check and keep the trail (`./operations`);
 * `tests/project/layers.test.ts` holds every folder to its doors.
 */
export { auditedResource, type AuditedResource, type AuditedResourceOptions } from './model/audited-resource';
export { AuditedObject } from './model/audited-object';
export { AuditedReads } from './model/audited-reads';
export { OwnedRecords, type OwnedRecordsScope } from './model/owned-records';
export { defineAuditAction, type AuditAction, type AuditActivity } from './model/audit-actions';
export type { AuditContext } from './record/audit-context';
export type { RequestAudit } from './record/request-audit';
export { WITHHELD } from './model/record-snapshot';
export type { RecordVersion } from './model/history/record-version';
