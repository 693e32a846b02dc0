import { randomUUID } from 'node:crypto';
import { isIP, isIPv4 } from 'node:net';
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

/**
 * The client address as audit rows store it: a valid IPv4 or IPv6 address, or null. Behind a
 * trusted proxy it comes from `X-Forwarded-For`, which may hold anything. Stored without the
 * IPv4-mapped prefix (`::ffff:127.0.0.1` → `127.0.0.1`) and without an IPv6 zone (`%eth0`), which
 * is only meaningful on the host and unbounded in length.
 */
export function clientIp(address: string | undefined): string | null {
  if (!address) return null;
  const [host] = address.split('%', 1) as [string];
  const unmapped = host.toLowerCase().startsWith('::ffff:') && isIPv4(host.slice(7)) ? host.slice(7) : host;
  return isIP(unmapped) !== 0 ? unmapped : null;
}
