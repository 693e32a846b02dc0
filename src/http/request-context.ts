import type { ContextFunction } from '@apollo/server';
import type { ExpressContextFunctionArgument } from '@as-integrations/express5';
import type { Context } from '../api/context';
import { AUTHENTICATE, type AuditRequest, type AuditTrail } from '../audit';
import { TokenRejected } from '../auth/token-rejection';
import type { TokenVerifier } from '../auth/token-verifier';
import { Unauthenticated } from '../core/errors';
import type { Db } from '../db/database';
import { toGraphQLError } from '../graphql/client-errors';
import { clientIp } from './request-id';
import { userAgentOf } from './user-agent';

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
    const request: AuditRequest = {
      viewer: undefined,
      requestId: res.locals.requestId as string,
      ip: clientIp(req.ip),
      userAgent: userAgentOf(req.get('user-agent')),
      operationName: null,
    };
    let viewer;
    try {
      viewer = await verifyToken(req.get('authorization'));
    } catch (error) {
      if (!(error instanceof TokenRejected)) throw error;
      const audit = auditTrail.forRequest(request);
      audit.denied({ action: AUTHENTICATE.name, details: { reason: error.reason } });
      // No operation runs for this request, so its row is written here, before the 401 leaves.
      await audit.flush();
      throw toGraphQLError(new Unauthenticated(error.message, 401));
    }
    return { viewer, db, audit: auditTrail.forRequest({ ...request, viewer }) };
  };
}
