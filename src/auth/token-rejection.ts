import { errors } from 'jose';

/**
 * Why a presented bearer token was refused: the stable codes stored as `details.reason` of the
 * denied `authenticate` row. Clients never see them (they get one generic message, so a forger
 * learns nothing from probing), and they never echo what the token contained.
 */
export type TokenRejectionReason =
  /** Not a `Bearer <token>` header, or not a well-formed JWT (bad encoding, claims of the wrong type). */
  | 'malformed'
  /** The signature does not verify, uses an algorithm other than the pinned ones, or names no known key. */
  | 'bad_signature'
  /** The signing keys could not be fetched from `JWKS_URL`. */
  | 'keys_unavailable'
  /** No `exp` claim: a token that never expires is refused. */
  | 'no_expiry'
  | 'expired'
  /** `nbf` or `iat` lies in the future, beyond the clock tolerance. */
  | 'not_yet_valid'
  /** The lifetime the token claims exceeds `JWT_MAX_AGE`. */
  | 'too_long_lived'
  | 'wrong_issuer'
  | 'wrong_audience'
  /**
   * `sub` is missing, not a string, blank, too long, not in NFC, or holds control characters,
   * format characters (bidi overrides, zero-width spaces) or lone surrogates.
   */
  | 'bad_subject';

/** What every client is told about a refused token, whatever the reason. */
export const INVALID_TOKEN_MESSAGE = 'the bearer token is invalid or expired';

/** A presented token (or Authorization header) that does not identify anyone. */
export class TokenRejected extends Error {
  override readonly name = 'TokenRejected';

  /** `message` is what the client is told; `reason` is recorded, not sent. */
  constructor(
    readonly reason: TokenRejectionReason,
    message = INVALID_TOKEN_MESSAGE,
  ) {
    super(message);
  }
}

/** The reason code for an error thrown by jose's `jwtVerify`. */
export function rejectionReasonOf(error: unknown): TokenRejectionReason {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) return claimReason(error);
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JOSEAlgNotAllowed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return 'bad_signature';
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) {
    return 'malformed';
  }
  // What is left comes from fetching the JWKS: a timeout, a non-200 answer, an unreadable key set,
  // or the network itself (a plain fetch error).
  return 'keys_unavailable';
}

function claimReason(error: InstanceType<typeof errors.JWTClaimValidationFailed>): TokenRejectionReason {
  if (error.reason === 'check_failed') {
    switch (error.claim) {
      case 'nbf':
      case 'iat':
        return 'not_yet_valid';
      case 'iss':
        return 'wrong_issuer';
      case 'aud':
        return 'wrong_audience';
    }
  }
  if (error.reason === 'missing') {
    switch (error.claim) {
      case 'exp':
        return 'no_expiry';
      case 'iss':
        return 'wrong_issuer';
      case 'aud':
        return 'wrong_audience';
    }
  }
  return 'malformed';
}
