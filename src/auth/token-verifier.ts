import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { Unauthenticated } from '../core/errors';
import { Role, type Viewer } from './viewer';

/** Turns the value of an `Authorization` header into a {@link Viewer}. */
export type TokenVerifier = (authorization: string | undefined) => Promise<Viewer | undefined>;

/** How tokens are checked: a shared HS256 secret, or RS256/ES256 keys published at a JWKS URL. */
export type TokenKeySource = { secret: string } | { jwksUrl: string };

/**
 * Builds the verifier. No header means an anonymous caller (`undefined`); any header that does not
 * carry a valid token is rejected with `UNAUTHENTICATED` and HTTP 401, never downgraded to anonymous.
 * Algorithms are pinned, so `alg: none` and algorithm-confusion tokens fail verification.
 */
export function createTokenVerifier(source: TokenKeySource): TokenVerifier {
  let verify: (token: string) => Promise<JWTPayload>;
  if ('secret' in source) {
    const key = new TextEncoder().encode(source.secret);
    verify = async (token) => (await jwtVerify(token, key, { algorithms: ['HS256'] })).payload;
  } else {
    const keys = createRemoteJWKSet(new URL(source.jwksUrl));
    verify = async (token) => (await jwtVerify(token, keys, { algorithms: ['RS256', 'ES256'] })).payload;
  }

  return async (authorization) => {
    if (authorization === undefined) return undefined;
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) throw new Unauthenticated('the Authorization header must be "Bearer <token>"', 401);
    let payload: JWTPayload;
    try {
      payload = await verify(match[1]!);
    } catch {
      // jose's reasons (expired, bad signature, unsupported alg) are not for clients to probe.
      throw new Unauthenticated('the bearer token is invalid or expired', 401);
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') {
      throw new Unauthenticated('the bearer token has no subject (sub)', 401);
    }
    return { id: payload.sub, role: payload.role === 'admin' ? Role.ADMIN : Role.USER };
  };
}
