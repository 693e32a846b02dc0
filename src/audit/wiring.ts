/**
 * The audit trail, as the server wires it in: the trail and its sinks, the Apollo plugin and the
 * schema's checks, upkeep and sealing, and the actions the request pipeline records itself. For
 * `server.ts` and the layers that carry requests (`http`, `graphql`, `pipeline`, `metrics`).
 */
export { AuditTrail, type AuditTrailOptions } from './record/audit-trail';
export { discardingAuditSink } from './storage/audit-sink';
export type { AuditObserver } from './record/audit-observer';
export { auditTrailWritable } from './storage/audit-trail-writable';
export { ApolloServerPluginAuditTrail, type AuditTrailPluginOptions } from './graphql/plugin';
export { assertAuditCoverage } from './model/audited-reads';
export { settleBeforeAudit } from './graphql/root-fields';
export { ensureAuditMonths, startAuditUpkeep } from './storage/audit-upkeep';
export { assertBackstops } from './storage/backstop-check';
export { loadOrCreateDevSigningKey, Sealer, SealWatcher } from './integrity';
export { ACCESS_DENIED, AUTHENTICATE, BUILT_IN_AUDIT_ACTIONS, INVALID_ARGUMENT, QUERY_REFUSED, REQUEST_LIMITED } from './model/built-in-actions';
export { AuditActionRegistry } from './model/audit-actions';
export { parseAccessReason, type AccessReason } from './model/access-reason';
