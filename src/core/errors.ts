/**
 * The error codes clients can rely on (`extensions.code`). Services and the audit module raise the
 * errors below; the GraphQL edge (`graphql/format-error.ts`) turns them into GraphQL errors with
 * these codes. Anything else reaching a client is `INTERNAL_SERVER_ERROR` with a generic message.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  FORBIDDEN: 'FORBIDDEN',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** A document over a query limit, refused before execution (`src/graphql/query-limits/`). */
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  /** Over a rate or capacity limit of a door; `extensions.retryAfter` says when to try again, in seconds. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** An admin's read or change of others' records without a stated reason, where the policy requires one. */
  ACCESS_REASON_REQUIRED: 'ACCESS_REASON_REQUIRED',
  /** The audit trail cannot rebuild a record's state: `extensions.reason` is `gap` or `withheld`. */
  HISTORY_INCOMPLETE: 'HISTORY_INCOMPLETE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error whose message was written for the client. */
export abstract class ClientError extends Error {
  abstract readonly code: ErrorCode;
  /** Extra `extensions` for the client, e.g. the field at fault. */
  readonly extensions: Readonly<Record<string, unknown>> = {};
}

/** Bad input; `field` names the argument or input field at fault (e.g. `input.title`). */
export class InvalidInput extends ClientError {
  override readonly name = 'InvalidInput';
  readonly code = ErrorCode.BAD_USER_INPUT;
  override readonly extensions: { field: string };

  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.extensions = { field };
  }
}

export class NotFound extends ClientError {
  override readonly name = 'NotFound';
  readonly code = ErrorCode.NOT_FOUND;

  constructor(what: string) {
    super(`${what} not found`);
  }
}

export class Forbidden extends ClientError {
  override readonly name = 'Forbidden';
  readonly code = ErrorCode.FORBIDDEN;

  constructor(message = 'not allowed') {
    super(message);
  }
}

/** `httpStatus` is set for request-level failures (a bad token), not for per-field denials. */
export class Unauthenticated extends ClientError {
  override readonly name = 'Unauthenticated';
  readonly code = ErrorCode.UNAUTHENTICATED;

  constructor(
    message = 'authentication required',
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

/** A request over a rate or capacity limit; `retryAfterSeconds` is also sent as `Retry-After`. */
export class RateLimited extends ClientError {
  override readonly name = 'RateLimited';
  readonly code = ErrorCode.RATE_LIMITED;
  override readonly extensions: { retryAfter: number };

  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    readonly httpStatus = 429,
  ) {
    super(message);
    this.extensions = { retryAfter: retryAfterSeconds };
  }
}

/**
 * An admin's read or change of records they do not own, without the reason the policy requires
 * (`ADMIN_ACCESS_REASON=required`): the field fails and returns none of the records.
 */
export class AccessReasonRequired extends ClientError {
  override readonly name = 'AccessReasonRequired';
  readonly code = ErrorCode.ACCESS_REASON_REQUIRED;

  constructor() {
    super('state why you access records you do not own: send the Access-Reason header ("<code>" or "<code> <reference>")');
  }
}

/** Why the trail cannot rebuild a record: versions it does not hold, or values it withheld. */
export type HistoryGap = 'gap' | 'withheld';

/**
 * A record's past state the audit trail cannot rebuild: it lacks versions of the record (`gap`:
 * its creation dropped by retention, a change made where nothing recorded it), or keeps fields'
 * values withheld (`withheld`, naming the fields), which a restore would have to invent.
 */
export class HistoryIncomplete extends ClientError {
  override readonly name = 'HistoryIncomplete';
  readonly code = ErrorCode.HISTORY_INCOMPLETE;
  override readonly extensions: { reason: HistoryGap; fields?: readonly string[] };

  constructor(reason: HistoryGap, fields?: readonly string[]) {
    super(
      reason === 'gap'
        ? 'the audit trail lacks versions of this record, so its state at that instant cannot be rebuilt'
        : `the audit trail withholds the values of ${fields?.join(', ')}, so this state cannot be restored`,
    );
    this.extensions = fields === undefined ? { reason } : { reason, fields };
  }
}
