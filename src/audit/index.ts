/**
 * The audit trail, as features see it: what they declare to have their data audited. *How* rows
 * are built and stored stays inside `src/audit/`. The server's wiring has its own door
 * (`./wiring`), and so do the tools that read, check and keep the trail (`./operations`);
 * `tests/layers.test.ts` holds every folder to its doors.
 */
export { auditedResource, type AuditedResource, type AuditedResourceOptions } from './audited-resource';
export { AuditedObject } from './audited-object';
export { AuditedReads } from './audited-reads';
export { OwnedRecords, type OwnedRecordsScope } from './owned-records';
export { defineAuditAction, type AuditAction } from './audit-actions';
export type { AuditContext } from './audit-context';
export type { RequestAudit } from './request-audit';
export { WITHHELD } from './record-snapshot';
