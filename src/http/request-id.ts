import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';

/** A caller-supplied id is kept only if it is a plain token; anything else could forge log lines. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:/+=-]{1,128}$/;

/**
 * Gives every request an id, echoes it in the `X-Request-Id` response header and keeps it in
 * `res.locals.requestId`. An incoming `X-Request-Id` is used only when sane and sent by a proxy
 * `TRUST_PROXY` trusts (which traces requests across services); from anyone else it could reuse
 * another caller's id and mix rows into that request's trail, so one is generated instead.
 */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const supplied = fromTrustedProxy(req) ? req.get('x-request-id') : undefined;
    const id = supplied !== undefined && SANE_REQUEST_ID.test(supplied) ? supplied : randomUUID();
    res.locals.requestId = id;
    res.setHeader('X-Request-Id', id);
    next();
  };
}

/** Whether the peer that sent `req` is a proxy `TRUST_PROXY` trusts (Express's compiled check). */
function fromTrustedProxy(req: Request): boolean {
  const trusts = req.app.get('trust proxy fn') as (address: string | undefined, hop: number) => boolean;
  return req.socket.remoteAddress !== undefined && trusts(req.socket.remoteAddress, 0);
}
