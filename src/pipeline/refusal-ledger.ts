import type { Viewer } from '../auth/viewer';
import type { Origin } from './origin';
import type { Door, LimitName } from './rate-limits';

/** The refusals of one caller by one limit within the current window. */
export interface RefusalSummary {
  readonly limit: LimitName;
  readonly viewer: Viewer | undefined;
  readonly origin: Origin;
  readonly doors: Set<Door>;
  count: number;
}

/** Callers one window keeps apart; past it, the rest are summed as one unknown caller per limit. */
const MAX_CALLERS = 10_000;

/**
 * Sums requests refused by a limit per caller and limit, and hands the sums over once per window
 * (and at shutdown): a flood of refused requests leaves one row per caller and window, never one
 * per request, and a flood from many addresses at most {@link MAX_CALLERS} rows per window.
 */
export class RefusalLedger {
  private summaries = new Map<string, RefusalSummary>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    windowSeconds: number,
    private readonly write: (summaries: readonly RefusalSummary[]) => Promise<void>,
  ) {
    this.timer = setInterval(() => void this.flush(), windowSeconds * 1000).unref();
  }

  note(limit: LimitName, viewer: Viewer | undefined, origin: Origin, door: Door): void {
    let key = `${limit}\u0000${viewer ? `user:${viewer.id}` : `ip:${origin.ip ?? ''}`}`;
    if (!this.summaries.has(key) && this.summaries.size >= MAX_CALLERS) {
      key = `${limit}\u0000*`;
      viewer = undefined;
      origin = { ip: null, userAgent: null };
    }
    let summary = this.summaries.get(key);
    if (!summary) this.summaries.set(key, (summary = { limit, viewer, origin, doors: new Set(), count: 0 }));
    summary.doors.add(door);
    summary.count++;
  }

  /** Hands over what was summed so far. */
  async flush(): Promise<void> {
    if (this.summaries.size === 0) return;
    const summaries = [...this.summaries.values()];
    this.summaries = new Map();
    await this.write(summaries);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
