import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

/** A caller-supplied id is kept only if it is a plain token; anything else could forge log lines. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:/+=-]{1,128}$/;

/**
 * Gives every request an id, taken from `X-Request-Id` when sane and generated otherwise, echoes it
 * in the `X-Request-Id` response header and keeps it in `res.locals.requestId`.
 */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const supplied = req.get('x-request-id');
    const id = supplied !== undefined && SANE_REQUEST_ID.test(supplied) ? supplied : randomUUID();
    res.locals.requestId = id;
    res.setHeader('X-Request-Id', id);
    next();
  };
}

/** The client address without the IPv4-mapped IPv6 prefix (`::ffff:127.0.0.1` → `127.0.0.1`). */
export function clientIp(address: string | undefined): string | null {
  if (!address) return null;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
