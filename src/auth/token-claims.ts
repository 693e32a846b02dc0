import type { JWTPayload } from 'jose';
import type { TokenPolicy } from '../config/token-policy';
import type { TokenRejectionReason } from './token-rejection';

/** The longest accepted `sub`, in characters (code points). */
export const MAX_SUBJECT_LENGTH = 255;

/**
 * C0 and C1 control characters (NUL included), UTF-16 surrogates not part of a pair, and format
 * characters (Cf: bidi overrides, zero-width spaces and joiners, soft hyphens), which are invisible
 * or reorder the text around them: `root\u202e\u200b` displays as `root`.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cs}\p{Cf}]/u;

/**
 * Whether `sub` can serve as a user id: it is stored in every audit row of the caller's requests
 * and compared with item owners, so it must be text PostgreSQL accepts (no NUL, no lone surrogate,
 * which would make every audit insert of the request fail), that reads unambiguously in the trail
 * (no control or format characters, not blank, and in NFC: `é` as one code point, never as `e`
 * and a combining accent, another id that reads the same), and of bounded size.
 */
export function isAcceptableSubject(sub: unknown): sub is string {
  return (
    typeof sub === 'string' &&
    sub.trim() !== '' &&
    !UNPRINTABLE.test(sub) &&
    sub.normalize('NFC') === sub &&
    [...sub].length <= MAX_SUBJECT_LENGTH
  );
}

/**
 * The time checks jose does not make, on a payload whose signature, `exp`, `nbf`, issuer and
 * audience it has already verified: an `iat` in the future, and a lifetime over the maximum.
 *
 * The lifetime is `exp - iat`, which no clock skew affects. Tokens without `iat` are accepted
 * (the claim is optional in RFC 7519) but then `exp` must lie within the maximum from now, give
 * or take the clock tolerance, so no token can outlive the maximum from the moment it is seen.
 */
export function timeProblem(payload: JWTPayload, policy: TokenPolicy, nowSeconds: number): TokenRejectionReason | undefined {
  const { exp, iat } = payload;
  if (exp === undefined) return 'no_expiry';
  if (iat !== undefined && iat > nowSeconds + policy.clockToleranceSeconds) return 'not_yet_valid';
  const lifetime = iat !== undefined ? exp - iat : exp - nowSeconds - policy.clockToleranceSeconds;
  return lifetime > policy.maxAgeSeconds ? 'too_long_lived' : undefined;
}
