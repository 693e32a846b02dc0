import type { ApiFeature } from '../api/feature';
import { VIEW_MY_DATA_ACCESS } from './access-log/access-log.actions';
import { AccessLogResolver } from './access-log/access-log.resolver';
import { AuditLogFeedResolver } from './feed/audit-log-feed.resolver';
import { AUDIT_LOG_ACTIONS } from './query/audit-log.actions';
import { AuditLogResolver } from './query/audit-log.resolver';
import { auditTrailAccess, canReadAuditTrail } from './query/audit-log.rules';
import { AUDIT_LOG_NODE } from './query/audit-log.type';
import { AuditStatsResolver } from './stats/audit-stats.resolver';

/**
 * Querying, counting, following and exporting the trail (admins only), and every user's log of
 * admins' access to their data; every read recorded.
 */
export const feature: ApiFeature = {
  resolvers: [AuditLogResolver, AuditStatsResolver, AuditLogFeedResolver, AccessLogResolver],
  access: {
    Query: {
      auditLogs: canReadAuditTrail,
      auditLog: canReadAuditTrail,
      auditIntegrity: canReadAuditTrail,
      auditStats: canReadAuditTrail,
      auditActions: canReadAuditTrail,
      myDataAccess: 'signedIn',
    },
    Subscription: { auditLogAdded: canReadAuditTrail, myDataAccessed: 'signedIn' },
  },
  // `node(id:)` of an audit entry is a read of the trail, allowed and recorded as `auditLog(id:)`.
  nodes: [{ type: AUDIT_LOG_NODE, fetch: (id, context, info) => new AuditLogResolver().auditLog(id, context, info), access: auditTrailAccess }],
  auditActions: [...AUDIT_LOG_ACTIONS, VIEW_MY_DATA_ACCESS],
};
