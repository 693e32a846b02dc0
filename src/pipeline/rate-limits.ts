import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimits } from '../config/door-limits';
import type { Viewer } from '../auth/viewer';
import { RateLimited } from '../core/errors';

/** The limits a request can be refused by; recorded as `details.limit` of a `request_limited` row. */
export type LimitName = 'caller_rate' | 'anonymous_rate' | 'process_rate' | 'subscriptions_per_connection' | 'subscriptions_per_process';

/** Which door a request came through, as `request_limited` rows list them. */
export type Door = 'http' | 'websocket';

/**
 * Counts each caller's requests (a token's `sub`, else the client address) and the process's, in
 * fixed windows (rate-limiter-flexible, in memory: each process limits what it serves). A caller
 * over their limit is refused before the process's count is touched, so one flooding caller does
 * not use up what is left for the others.
 */
export class RateLimiter {
  private readonly callers?: RateLimiterMemory;
  private readonly anonymous?: RateLimiterMemory;
  private readonly process?: RateLimiterMemory;

  constructor(readonly limits: RateLimits) {
    const limiter = (points: number) => (points > 0 ? new RateLimiterMemory({ points, duration: limits.windowSeconds }) : undefined);
    this.callers = limiter(limits.perCaller);
    this.anonymous = limiter(limits.perAnonymousAddress);
    this.process = limiter(limits.perProcess);
  }

  /** Counts one request of `viewer` (or, anonymous, of `ip`); throws {@link Refused} when over a limit. */
  async take(viewer: Viewer | undefined, ip: string | null): Promise<void> {
    if (viewer) await this.consume(this.callers, `user:${viewer.id}`, 'caller_rate');
    else await this.consume(this.anonymous, `ip:${ip ?? 'unknown'}`, 'anonymous_rate');
    await this.consume(this.process, 'process', 'process_rate');
  }

  private async consume(limiter: RateLimiterMemory | undefined, key: string, limit: LimitName): Promise<void> {
    if (!limiter) return;
    try {
      await limiter.consume(key);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      throw new Refused(limit, Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
    }
  }
}

/** What clients are told for each limit. */
const MESSAGES: Record<LimitName, string> = {
  caller_rate: 'Too many requests from this caller; slow down and try again after Retry-After seconds.',
  anonymous_rate: 'Too many requests without a valid token from this address; try again after Retry-After seconds.',
  process_rate: 'The server is serving as many requests as it may; try again after Retry-After seconds.',
  subscriptions_per_connection: 'This connection has as many subscriptions open as it may; complete one first.',
  subscriptions_per_process: 'The server has as many subscriptions open as it may; try again later.',
};

/** A request refused by `limit`: the client error, and the name its summary row records. */
export class Refused extends RateLimited {
  constructor(
    readonly limit: LimitName,
    retryAfterSeconds: number,
  ) {
    super(MESSAGES[limit], retryAfterSeconds);
  }
}
