import type { Request, Response } from 'express';
import { AUTHENTICATE, type AuditTrail, type RequestAudit } from '../audit';
import { TokenRejected } from '../auth/token-rejection';
import type { TokenVerifier } from '../auth/token-verifier';
import type { Viewer } from '../auth/viewer';
import { clientIp } from './request-id';
import { userAgentOf } from './user-agent';

/** The caller behind an HTTP request (undefined: anonymous) and the audit trail of that request. */
export interface AuthenticatedRequest {
  readonly viewer: Viewer | undefined;
  readonly audit: RequestAudit;
}

/**
 * Verifies the request's bearer token and hands back its audit trail, stamped with the request id,
 * client IP and user agent. A presented but invalid token is recorded as a denied `authenticate`
 * (a failed logon, PCI DSS 10.2.1.4), committed before {@link TokenRejected} is rethrown for the
 * caller to answer 401.
 */
export async function authenticatedRequest(req: Request, res: Response, verifyToken: TokenVerifier, auditTrail: AuditTrail): Promise<AuthenticatedRequest> {
  const request = {
    requestId: res.locals.requestId as string,
    ip: clientIp(req.ip),
    userAgent: userAgentOf(req.get('user-agent')),
    operationName: null,
  };
  let viewer;
  try {
    viewer = await verifyToken(req.get('authorization'));
  } catch (error) {
    if (error instanceof TokenRejected) {
      const audit = auditTrail.forRequest({ ...request, viewer: undefined });
      audit.denied({ action: AUTHENTICATE.name, details: { reason: error.reason } });
      await audit.flush();
    }
    throw error;
  }
  return { viewer, audit: auditTrail.forRequest({ ...request, viewer }) };
}
