import { defineAuditAction } from './audit-actions';

/** A request with an invalid, expired or malformed bearer token (a failed logon, PCI DSS 10.2.1.4). */
export const AUTHENTICATE = defineAuditAction({
  name: 'authenticate',
  resourceType: null,
  description: 'a request with an invalid, expired or malformed bearer token (outcome `denied`)',
  details: '`{ reason }`',
});

/** A call of a query or mutation the caller may not make (failed access attempts, PCI DSS 10.2.1.4). */
export const ACCESS_DENIED = defineAuditAction({
  name: 'access_denied',
  resourceType: null,
  description: 'a call of a query or mutation the caller may not make, e.g. anonymously (outcome `denied`)',
  details: '`{ field: "Mutation.createItem", reason }`',
});
