import { sql } from 'drizzle-orm';
import type { Db } from '../../db/database';
import { HEAD_SEQUENCE_SQL } from './chain-store';

/** How often a process reads the head of the seal chain while a live feed waits for it. */
const POLL_MS = 250;
/** The longest a feed waits without looking for itself: a missed change costs at most this. */
const MAX_WAIT_MS = 1000;

/**
 * Tells the live feeds of one process when the seal chain has grown, from the database (the
 * sealer may run in any process): one read of the chain's head every {@link POLL_MS} while any
 * feed waits, however many feeds there are, and none while none waits.
 */
export class SealWatcher {
  private head: number | undefined;
  private readonly waiting = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly db: Db) {}

  /** Resolves when a new seal is seen, after at most {@link MAX_WAIT_MS}, or when `signal` aborts. */
  nextSeal(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(fallback);
        signal.removeEventListener('abort', done);
        this.waiting.delete(done);
        if (this.waiting.size === 0) this.pause();
        resolve();
      };
      const fallback = setTimeout(done, MAX_WAIT_MS);
      if (signal.aborted) return done();
      signal.addEventListener('abort', done);
      this.waiting.add(done);
      this.timer ??= setInterval(() => void this.poll(), POLL_MS);
    });
  }

  /** Stops polling (the server is shutting down); waiting feeds wake on their own timers. */
  pause(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    try {
      const [row] = await this.db.execute<{ head: number }>(sql`select ${sql.raw(HEAD_SEQUENCE_SQL)} as head`);
      const grew = this.head !== undefined && row!.head > this.head;
      this.head = row!.head;
      if (grew) for (const wake of [...this.waiting]) wake();
    } catch {
      // The database is away: feeds look again after MAX_WAIT_MS and meet the error themselves.
    }
  }
}
