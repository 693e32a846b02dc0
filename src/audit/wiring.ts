/**
 * The audit trail, as the server wires it in: the trail and its sinks, the Apollo plugin and the
 * schema's checks, upkeep and sealing, and the actions the request pipeline records itself. For
 * `server.ts` and the layers that carry requests (`http`, `graphql`, `pipeline`, `metrics`).
 */
export { AuditTrail, type AuditTrailOptions } from './audit-trail';
export { discardingAuditSink } from './audit-sink';
export type { AuditObserver } from './audit-observer';
export { auditTrailWritable } from './audit-trail-writable';
export { ApolloServerPluginAuditTrail, type AuditTrailPluginOptions } from './plugin';
export { assertAuditCoverage } from './audited-reads';
export { settleBeforeAudit } from './root-fields';
export { ensureAuditMonths, startAuditUpkeep } from './audit-upkeep';
export { loadOrCreateDevSigningKey, Sealer, SealWatcher } from './integrity';
export { ACCESS_DENIED, AUTHENTICATE, INVALID_ARGUMENT, QUERY_REFUSED, REQUEST_LIMITED } from './request-actions';
