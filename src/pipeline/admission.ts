import { randomUUID } from 'node:crypto';
import { type RequestAudit } from '../audit';
import { AUTHENTICATE, INVALID_ARGUMENT, parseAccessReason, REQUEST_LIMITED, type AccessReason, type AuditTrail } from '../audit/wiring';
import { TokenRejected } from '../auth/token-rejection';
import type { TokenVerifier } from '../auth/token-verifier';
import { isAdmin, type Viewer } from '../auth/viewer';
import type { AccessReasonPolicy } from '../config/access-transparency';
import type { RateLimits } from '../config/door-limits';
import type { Logger } from '../config/logger';
import { InvalidInput, Unauthenticated } from '../core/errors';
import { COMMAND_LINE, type Origin } from './origin';
import { RateLimiter, Refused, type Door } from './rate-limits';
import { RefusalLedger, type RefusalSummary } from './refusal-ledger';

/** Options for {@link Admission}. */
export interface AdmissionOptions {
  readonly verifyToken: TokenVerifier;
  readonly auditTrail: AuditTrail;
  readonly rateLimits: RateLimits;
  /** Which access reasons a request may state. */
  readonly accessReasons: AccessReasonPolicy;
  /** Receives failures to write the summary rows of refused requests. */
  readonly logger: Logger;
}

/** A caller let in through a door: who they are (undefined: anonymous), where they came from, and why they access others' data. */
export interface Admitted {
  readonly viewer: Viewer | undefined;
  readonly origin: Origin;
  /** The reason the request (or the connection) stated; undefined: none. */
  readonly accessReason?: AccessReason;
}

/** What a request presents at a door: its bearer token, and the access reason it states, with where it stated it. */
export interface Presented {
  /** The `Authorization` header, or `connectionParams.authorization`. */
  readonly authorization: unknown;
  /** The `Access-Reason` header, or `connectionParams.accessReason`. */
  readonly accessReason?: unknown;
  /** Where the reason was stated, as a refusal names it (`Access-Reason`). */
  readonly accessReasonField: string;
}

/**
 * The first stage of every request, whatever its door: who is calling (the bearer token, verified
 * once), whether they may call now (rate limits), and the only place a request's audit trail is
 * opened. HTTP requests, WebSocket connections and each of their subscriptions, and command-line
 * runs all come through here, so no door can skip a check or build its trail differently.
 */
export class Admission {
  private readonly limiter: RateLimiter;
  private readonly ledger: RefusalLedger;

  constructor(private readonly options: AdmissionOptions) {
    this.limiter = new RateLimiter(options.rateLimits);
    this.ledger = new RefusalLedger(options.rateLimits.windowSeconds, (summaries) => this.recordRefusals(summaries));
  }

  /**
   * Admits a request from `origin` presenting a token and perhaps an access reason. A request over
   * a rate limit is refused with {@link Refused} and summed into its caller's row for the window. A
   * presented token that does not verify (or is not a string at all) is refused with
   * {@link Unauthenticated} (HTTP 401) once its denied `authenticate` row is committed; no header
   * at all is an anonymous caller. A malformed reason, or one of a code the policy does not take, is
   * refused with {@link InvalidInput} once its denied `invalid_argument` row is committed.
   */
  async admit(origin: Origin, presentedBy: Presented, door: Door, requestId?: string): Promise<Admitted> {
    let viewer: Viewer | undefined;
    let rejected: TokenRejected | undefined;
    try {
      viewer = await this.options.verifyToken(presented(presentedBy.authorization));
    } catch (error) {
      if (!(error instanceof TokenRejected)) throw error;
      rejected = error;
    }
    await this.take({ viewer, origin }, door);
    if (rejected) {
      const audit = this.open({ viewer: undefined, origin }, requestId);
      audit.denied({ action: AUTHENTICATE, details: { reason: rejected.reason } });
      await audit.flush();
      throw new Unauthenticated(rejected.message, 401);
    }
    try {
      const accessReason = parseAccessReason(presentedBy.accessReason, this.options.accessReasons, presentedBy.accessReasonField);
      // Checked for every caller, kept for admins only: only they bypass the scoping, and a user's
      // break-glass would flood what an alert on break-glass reads.
      return { viewer, origin, accessReason: viewer && isAdmin(viewer) ? accessReason : undefined };
    } catch (error) {
      if (!(error instanceof InvalidInput)) throw error;
      const audit = this.open({ viewer, origin }, requestId);
      audit.denied({ action: INVALID_ARGUMENT, details: { argument: error.field } });
      await audit.flush();
      throw error;
    }
  }

  /**
   * Checks again, on a long-lived connection, that the token `admitted` came in with still vouches
   * for them now: not expired (beyond the clock tolerance) and, with `JWKS_URL`, still signed by a
   * published key. A token that no longer does is refused like one presented so, and recorded as a
   * denied `authenticate` of the caller it named (the connection was theirs until now).
   */
  async recheck(admitted: Admitted, authorization: unknown): Promise<void> {
    if (!admitted.viewer) return;
    try {
      await this.options.verifyToken(presented(authorization));
    } catch (error) {
      if (!(error instanceof TokenRejected)) throw error;
      const audit = this.open(admitted);
      audit.denied({ action: AUTHENTICATE, details: { reason: error.reason } });
      await audit.flush();
      throw new Unauthenticated(error.message, 401);
    }
  }

  /** Counts one more request of an admitted caller (a subscription on their connection); throws {@link Refused}. */
  async take(admitted: Admitted, door: Door): Promise<void> {
    try {
      await this.limiter.take(admitted.viewer, admitted.origin.ip);
    } catch (error) {
      if (error instanceof Refused) this.refused(admitted, error, door);
      throw error;
    }
  }

  /** Sums a refusal by any limit (a rate, or a door's capacity) into the caller's row for the window. */
  refused(admitted: Admitted, refusal: Refused, door: Door): void {
    this.ledger.note(refusal.limit, admitted.viewer, admitted.origin, door);
  }

  /** The audit trail of one request of an admitted caller: every row it causes is written through it. */
  open(admitted: Admitted, requestId: string = randomUUID(), operationName: string | null = null): RequestAudit {
    return openAudit(this.options.auditTrail, admitted, requestId, operationName);
  }

  /** Writes what is left of the refusal sums; call when the server stops. */
  stop(): Promise<void> {
    return this.ledger.stop();
  }

  private async recordRefusals(summaries: readonly RefusalSummary[]): Promise<void> {
    await Promise.all(
      summaries.map(async ({ limit, viewer, origin, doors, count }) => {
        const audit = this.open({ viewer, origin });
        const details = { reason: limit, refused: count, windowSeconds: this.options.rateLimits.windowSeconds, doors: [...doors] };
        audit.denied({ action: REQUEST_LIMITED, details });
        await audit.flush().catch((error: unknown) => this.options.logger.error({ err: error, limit }, 'audit trail write failed for refused requests'));
      }),
    );
  }
}

/**
 * The audit trail of one run of a command-line tool, named by its npm script (`audit:export`): no
 * token (whoever may reach the database may run it), no address, a request id of its own.
 */
export function commandLineRun(auditTrail: AuditTrail, name: string): RequestAudit {
  return openAudit(auditTrail, { viewer: undefined, origin: COMMAND_LINE }, randomUUID(), name);
}

/** The one place a request's audit trail is opened, whatever its door. */
function openAudit(auditTrail: AuditTrail, admitted: Admitted, requestId: string, operationName: string | null): RequestAudit {
  return auditTrail.forRequest({ viewer: admitted.viewer, ...admitted.origin, accessReason: admitted.accessReason ?? null, requestId, operationName });
}

/**
 * The token header as the verifier takes it: a string, or undefined for none. Anything else (a
 * number or an object in `connectionParams`) was presented but cannot be a token: it is refused as
 * malformed, never taken for an anonymous caller.
 */
function presented(authorization: unknown): string | undefined {
  if (authorization === undefined || authorization === null) return undefined;
  return typeof authorization === 'string' ? authorization : '\u0000not a string';
}
