import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { isAcceptableSubject, timeProblem } from './token-claims';
import type { TokenPolicy } from '../config/token-policy';
import { rejectionReasonOf, TokenRejected } from './token-rejection';
import { Role, type Viewer } from './viewer';

/** Turns the value of an `Authorization` header into a {@link Viewer}; throws {@link TokenRejected}. */
export type TokenVerifier = (authorization: string | undefined) => Promise<Viewer | undefined>;

/** How tokens are checked: a shared HS256 secret, or RS256/ES256 keys published at a JWKS URL. */
export type TokenKeySource = { secret: string } | { jwksUrl: string };

/**
 * Builds the verifier. No header means an anonymous caller (`undefined`); any header that does not
 * carry a valid token is rejected with {@link TokenRejected}, never downgraded to anonymous.
 * Algorithms are pinned, so `alg: none` and algorithm-confusion tokens fail verification. Beyond
 * the signature, `policy` decides issuer, audience, lifetime and clock skew; `exp` is required.
 */
export function createTokenVerifier(source: TokenKeySource, policy: TokenPolicy): TokenVerifier {
  const options: JWTVerifyOptions = {
    requiredClaims: ['exp'],
    clockTolerance: policy.clockToleranceSeconds,
    ...(policy.issuer !== undefined && { issuer: policy.issuer }),
    ...(policy.audience !== undefined && { audience: policy.audience }),
  };
  let verify: (token: string) => Promise<JWTPayload>;
  if ('secret' in source) {
    const key = new TextEncoder().encode(source.secret);
    verify = async (token) => (await jwtVerify(token, key, { ...options, algorithms: ['HS256'] })).payload;
  } else {
    const keys = createRemoteJWKSet(new URL(source.jwksUrl), { cacheMaxAge: policy.jwksCacheMaxAgeSeconds * 1000 });
    verify = async (token) => (await jwtVerify(token, keys, { ...options, algorithms: ['RS256', 'ES256'] })).payload;
  }

  return async (authorization) => {
    if (authorization === undefined) return undefined;
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) throw new TokenRejected('malformed', 'the Authorization header must be "Bearer <token>"');
    let payload: JWTPayload;
    try {
      payload = await verify(match[1]!);
    } catch (error) {
      throw new TokenRejected(rejectionReasonOf(error));
    }
    const problem = timeProblem(payload, policy, Math.floor(Date.now() / 1000));
    if (problem) throw new TokenRejected(problem);
    if (!isAcceptableSubject(payload.sub)) throw new TokenRejected('bad_subject');
    const validUntil = (payload.exp! + policy.clockToleranceSeconds) * 1000;
    return { id: payload.sub, role: payload.role === 'admin' ? Role.ADMIN : Role.USER, validUntil };
  };
}
