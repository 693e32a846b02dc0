/** Rows queued for the next INSERT, and the requests waiting for its commit. */
interface Batch<Row> {
  readonly rows: Row[];
  readonly committed: Promise<void>;
  settle(error?: unknown): void;
}

/**
 * Group commit for audit rows that stand on their own (reads, refusals, failures): while one
 * INSERT is in flight, the rows of every request that arrives meanwhile wait together for the next
 * one, so concurrent requests share one statement and one commit (one WAL flush) instead of paying
 * a commit each. Each request still awaits the commit of the batch holding its rows — durable
 * before its answer — and if that INSERT fails, every request in the batch fails with it.
 */
export class GroupCommit<Row> {
  private next: Batch<Row> | undefined;
  private writing = false;

  constructor(private readonly insert: (rows: readonly Row[]) => Promise<void>) {}

  /** Resolves once `rows` are committed; rejects if the INSERT holding them failed. */
  write(rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    const batch = (this.next ??= newBatch());
    batch.rows.push(...rows);
    if (!this.writing) void this.drain();
    return batch.committed;
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.next) {
      const batch = this.next;
      this.next = undefined;
      try {
        await this.insert(batch.rows);
        batch.settle();
      } catch (error) {
        batch.settle(error);
      }
    }
    this.writing = false;
  }
}

function newBatch<Row>(): Batch<Row> {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const committed = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { rows: [], committed, settle: (error) => (error === undefined ? resolve() : reject(error)) };
}
