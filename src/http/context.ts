import type { ContextFunction } from '@apollo/server';
import type { ExpressContextFunctionArgument } from '@as-integrations/express5';
import type { AuditRequest } from '../audit/audit-event';
import { RequestAudit, type RequestAuditOptions } from '../audit/request-audit';
import { TokenRejected } from '../auth/token-rejection';
import type { TokenVerifier } from '../auth/token-verifier';
import type { Logger } from '../config/logger';
import type { Db } from '../db/database';
import type { Context } from '../graphql/context';
import { unauthenticated } from '../graphql/errors';
import { clientIp } from './request-id';
import { userAgentOf } from './user-agent';

export interface ContextFactoryOptions {
  readonly db: Db;
  readonly verifyToken: TokenVerifier;
  readonly logger: Logger;
  /** How each request's audit trail stores rows; production passes none. */
  readonly audit?: RequestAuditOptions;
}

/**
 * Builds each request's {@link Context}: the verified viewer and an audit trail stamped with the
 * request id, client IP and user agent. A presented but invalid token is recorded as a denied
 * `authenticate` event (a failed logon, PCI DSS 10.2.1.4) before the client receives 401.
 */
export function contextFactory(options: ContextFactoryOptions): ContextFunction<[ExpressContextFunctionArgument], Context> {
  const { db, verifyToken, logger, audit } = options;
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
      await new RequestAudit(db, request, logger, audit).denied({ action: 'authenticate', details: { reason: error.reason } });
      throw unauthenticated(error.message, 401);
    }
    return { viewer, db, audit: new RequestAudit(db, { ...request, viewer }, logger, audit) };
  };
}
