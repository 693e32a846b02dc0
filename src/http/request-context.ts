import type { ContextFunction } from '@apollo/server';
import type { ExpressContextFunctionArgument } from '@as-integrations/express5';
import type { Context } from '../api/context';
import type { AuditTrail } from '../audit';
import { TokenRejected } from '../auth/token-rejection';
import type { TokenVerifier } from '../auth/token-verifier';
import { Unauthenticated } from '../core/errors';
import type { Db } from '../db/database';
import { toGraphQLError } from '../graphql/client-errors';
import { authenticatedRequest } from './authenticated-request';

export interface RequestContextOptions {
  readonly db: Db;
  readonly verifyToken: TokenVerifier;
  readonly auditTrail: AuditTrail;
}

/**
 * Builds each request's {@link Context}: the verified viewer and the request's audit trail,
 * stamped with the request id, client IP and user agent. A presented but invalid token is
 * recorded as a denied `authenticate` event (a failed logon, PCI DSS 10.2.1.4) before the client
 * receives 401.
 */
export function requestContext(options: RequestContextOptions): ContextFunction<[ExpressContextFunctionArgument], Context> {
  const { db, verifyToken, auditTrail } = options;
  return async ({ req, res }) => {
    try {
      const { viewer, audit } = await authenticatedRequest(req, res, verifyToken, auditTrail);
      return { viewer, db, audit };
    } catch (error) {
      // No operation runs for this request; its row was written before the 401 leaves.
      if (error instanceof TokenRejected) throw toGraphQLError(new Unauthenticated(error.message, 401));
      throw error;
    }
  };
}
