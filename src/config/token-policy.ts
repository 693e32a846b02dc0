/** What a bearer token must satisfy beyond its signature; read from the environment (see config.ts). */
export interface TokenPolicy {
  /** `JWT_ISSUER`: the only accepted `iss`; unset accepts any. */
  readonly issuer: string | undefined;
  /** `JWT_AUDIENCE`: `aud` must name it; unset accepts any. */
  readonly audience: string | undefined;
  /** `JWT_MAX_AGE`: the longest lifetime a token may claim, `exp - iat` (or `exp - now` without `iat`). */
  readonly maxAgeSeconds: number;
  /** `JWT_CLOCK_TOLERANCE`: allowed skew between the issuer's clock and ours, for `exp`, `nbf` and `iat`. */
  readonly clockToleranceSeconds: number;
  /**
   * `JWKS_CACHE_MAX_AGE`: how long keys fetched from `JWKS_URL` are trusted before they are fetched
   * again, so a key the identity provider withdraws stops verifying tokens within this time.
   */
  readonly jwksCacheMaxAgeSeconds: number;
}
