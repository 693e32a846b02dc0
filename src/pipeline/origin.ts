import type { IncomingMessage } from 'node:http';
import { isIP, isIPv4 } from 'node:net';
import proxyaddr from 'proxy-addr';
import { userAgentOf } from './user-agent';

/** Express's compiled `trust proxy`: which peers may say, in `X-Forwarded-For`, whom they forward. */
export type TrustProxy = (address: string, hop: number) => boolean;

/** Where a request came from, as each of its audit rows records it. */
export interface Origin {
  readonly ip: string | null;
  readonly userAgent: string | null;
}

/** A run of a command-line tool: no network peer, no user agent. */
export const COMMAND_LINE: Origin = { ip: null, userAgent: null };

/**
 * The origin of an HTTP request or of a WebSocket's upgrade request, read the same way for both:
 * the client address through the proxies `trustProxy` trusts (as Express's `req.ip`), and the
 * `User-Agent` header.
 */
export function originOf(message: IncomingMessage, trustProxy: TrustProxy): Origin {
  return { ip: clientIp(proxyaddr(message, trustProxy)), userAgent: userAgentOf(message.headers['user-agent']) };
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
