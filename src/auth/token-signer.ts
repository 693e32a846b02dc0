import { SignJWT } from 'jose';

export interface TokenClaims {
  sub: string;
  /** `admin` grants the ADMIN role; anything else is a USER. */
  role?: string;
  /** Lifetime, in jose's notation (`1h`, `8h`, `7d`); at most the server's `JWT_MAX_AGE`. */
  expiresIn?: string;
  /** `iss`, needed when the server sets `JWT_ISSUER`. */
  issuer?: string;
  /** `aud`, needed when the server sets `JWT_AUDIENCE`. */
  audience?: string;
}

/** Signs an HS256 token the server accepts; used by `npm run token` and by the tests. */
export async function signToken(secret: string, claims: TokenClaims): Promise<string> {
  const jwt = new SignJWT(claims.role ? { role: claims.role } : {})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? '8h');
  if (claims.issuer !== undefined) jwt.setIssuer(claims.issuer);
  if (claims.audience !== undefined) jwt.setAudience(claims.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
