import type { ClientError } from '../../core/errors';

/**
 * Thrown inside a change when the caller may not make it. The audit module records a `denied` row
 * outside the (rolled back) transaction, then the client receives `clientError`, which need not
 * admit that the resource exists.
 */
export class AccessDenied extends Error {
  override readonly name = 'AccessDenied';

  constructor(
    readonly clientError: ClientError,
    readonly details: Record<string, unknown>,
    /** The owner of the record the attempt was on, when it exists. */
    readonly ownerId?: string,
    /** An admin's attempt on someone else's record (refused for want of a reason): its row is a bypass. */
    readonly adminBypass = false,
  ) {
    super(clientError.message);
  }
}
