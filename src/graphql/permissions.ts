import { deny, rule, shield } from 'graphql-shield';
import { canReadAuditTrail } from '../audit/audit-log.rules';
import type { Context } from './context';
import { forbidden, unauthenticated } from './errors';

const isAuthenticated = rule({ cache: 'contextual' })((_parent, _args, context: Context) =>
  context.viewer ? true : unauthenticated(),
);

/**
 * Who may call which root field. Anything not listed is denied, so a new operation is closed
 * until someone decides who may use it. Nested types are reachable only through these fields.
 */
export const permissions = shield(
  {
    Query: {
      '*': deny,
      me: isAuthenticated,
      item: isAuthenticated,
      items: isAuthenticated,
      auditLogs: canReadAuditTrail,
      auditLog: canReadAuditTrail,
    },
    Mutation: {
      '*': deny,
      createItem: isAuthenticated,
      updateItem: isAuthenticated,
      deleteItem: isAuthenticated,
    },
  },
  {
    // Resolver errors (BAD_USER_INPUT, NOT_FOUND, ...) pass through instead of becoming "Not Authorised!".
    allowExternalErrors: true,
    fallbackError: async (_thrown, _parent, _args, context) =>
      (context as Partial<Context>).viewer ? forbidden() : unauthenticated(),
  },
);
