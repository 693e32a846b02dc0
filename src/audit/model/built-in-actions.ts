import { defineAuditAction } from './audit-actions';

/* The actions the trail records itself, whatever the features: refusals at the doors and retention. */

/** A request with an invalid, expired or malformed bearer token (a failed logon, PCI DSS 10.2.1.4). */
export const AUTHENTICATE = defineAuditAction({
  name: 'authenticate',
  resourceType: null,
  activity: 'other',
  description: 'a request with a bearer token that is refused (outcome `denied`)',
  details:
    '`{ reason }`, one of `malformed`, `bad_signature`, `keys_unavailable`, `no_expiry`, `expired`, `not_yet_valid`, `too_long_lived`, `wrong_issuer`, `wrong_audience`, `bad_subject`; never the token\'s contents',
});

/** A call of a query or mutation the caller may not make (failed access attempts, PCI DSS 10.2.1.4). */
export const ACCESS_DENIED = defineAuditAction({
  name: 'access_denied',
  resourceType: null,
  activity: 'other',
  description: 'a call of a query or mutation the caller may not make, e.g. anonymously (outcome `denied`)',
  details: '`{ reason, fields: ["Mutation.createItem", …], count }`: one row per request and reason',
});

/** A call refused before it ran because an argument cannot be stored (NUL, a lone surrogate, a date out of range). */
export const INVALID_ARGUMENT = defineAuditAction({
  name: 'invalid_argument',
  resourceType: null,
  activity: 'other',
  description: 'a call refused because an argument holds what cannot be stored: NUL, an unpaired surrogate, a date outside years 1–9999 (outcome `denied`)',
  details: '`{ argument, fields, count }`: the path of the first such argument, never its value',
});

/** A document over a query limit, refused before execution (depth, aliases, tokens, cost…). */
export const QUERY_REFUSED = defineAuditAction({
  name: 'query_refused',
  resourceType: null,
  activity: 'other',
  description: 'a GraphQL document over a query limit, refused before execution (outcome `denied`)',
  details: '`{ limit, max, measured }`, never the document',
});

/** Requests refused by a rate or capacity limit of a door, summed per caller, limit and window. */
export const REQUEST_LIMITED = defineAuditAction({
  name: 'request_limited',
  resourceType: null,
  activity: 'other',
  description:
    'requests refused by a rate or capacity limit (HTTP 429, `RATE_LIMITED`), one row per caller, limit and window however many were refused (outcome `denied`)',
  details:
    '`{ reason, refused, windowSeconds, doors }`: `reason` the limit, one of `caller_rate`, `anonymous_rate`, `process_rate`, `subscriptions_per_connection`, `subscriptions_per_process`; `refused` how many requests it refused in the window; `doors` `http`, `websocket`',
});

/** Dropping whole months of the trail: the only way rows ever leave it. */
export const AUDIT_RETENTION = defineAuditAction({
  name: 'audit_retention',
  resourceType: null,
  activity: 'other',
  description:
    'months of the trail dropped by `npm run audit:retention` as the table owner, recorded in the same transaction and signed with the seal-signing key',
  details:
    '`{ retentionId, before, databaseRole, partitions: [{ name, from, to, rows, firstId, lastId, seals: [{ seal, rows }] }], publicKey, signature }`',
});

/** The trail's own actions, which every server's registry lists first. */
export const BUILT_IN_AUDIT_ACTIONS = [AUTHENTICATE, ACCESS_DENIED, INVALID_ARGUMENT, QUERY_REFUSED, REQUEST_LIMITED, AUDIT_RETENTION] as const;
