import type postgres from 'postgres';

/**
 * How much of the pool the server is using right now. postgres.js exposes no such figures, so
 * {@link trackPoolUsage} counts what goes through the pool handle: it measures demand on the pool,
 * not the driver's internal state.
 */
export interface PoolUsage {
  /**
   * Statements sent through the pool outside a transaction that have not answered yet: running,
   * or waiting for a connection. postgres.js pipelines statements on busy connections, so more
   * of these than connections is not yet a queue.
   */
  readonly queriesInFlight: number;
  /**
   * Transactions begun and not yet committed or rolled back, waiting for their connection
   * included. Each holds one connection to itself for its whole length; when they reach the pool
   * size, every other statement waits.
   */
  readonly transactionsOpen: number;
}

/** A postgres.js query as created, before it runs; `handle()` starts it once, whoever asks first. */
interface PendingQuery extends Promise<unknown> {
  executed: boolean;
  handle(): Promise<void>;
}

/**
 * `sql` with its usage counted, for {@link PoolUsage}: the returned handle is `sql` itself for
 * every purpose (the same queries, options and transactions), wrapped to count
 * - each query from a tagged template or `unsafe()` from the moment it runs (a query only used as
 *   a fragment of another never runs) until it answers or fails;
 * - each `begin()` until its transaction ends; the statements inside it run on the transaction's
 *   own handle and are not counted again.
 *
 * A cursor read with `for await` straight on the pool would stay counted: postgres.js never
 * settles that query. The server reads cursors inside transactions only (the trail's export).
 *
 * A query runs when postgres.js calls its `handle()`, which is not public API: postgres.js is
 * pinned (and patched, see patches/), and tests/database/pool-usage.test.ts fails if this stops counting.
 */
export function trackPoolUsage(sql: postgres.Sql): { readonly sql: postgres.Sql; usage(): PoolUsage } {
  let queriesInFlight = 0;
  let transactionsOpen = 0;
  const queryEnded = () => void queriesInFlight--;
  const transactionEnded = () => void transactionsOpen--;

  const counted = <T>(result: T): T => {
    if (!(result instanceof Promise) || typeof (result as Partial<PendingQuery>).handle !== 'function') return result;
    const query = result as unknown as PendingQuery;
    const handle = query.handle;
    query.handle = function (this: PendingQuery) {
      if (!this.executed) {
        queriesInFlight++;
        // Promise's own then: postgres.js's would start the query; this one only watches it.
        Promise.prototype.then.call(this, queryEnded, queryEnded);
      }
      return handle.call(this);
    };
    return result;
  };

  const unsafe: postgres.Sql['unsafe'] = (...args) => counted(sql.unsafe(...args));
  const begin = ((...args: Parameters<postgres.Sql['begin']>) => {
    transactionsOpen++;
    const transaction = sql.begin(...args);
    transaction.then(transactionEnded, transactionEnded);
    return transaction;
  }) as postgres.Sql['begin'];

  const tracked = new Proxy(sql, {
    apply: (target, thisArg, args) => counted(Reflect.apply(target, thisArg, args)),
    get: (target, property, receiver) =>
      property === 'unsafe' ? unsafe : property === 'begin' ? begin : Reflect.get(target, property, receiver),
  });
  return { sql: tracked, usage: () => ({ queriesInFlight, transactionsOpen }) };
}
