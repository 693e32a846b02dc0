import type postgres from 'postgres';

type Handle = postgres.Sql | postgres.TransactionSql;

/**
 * `sql` as Drizzle is given it: every statement Drizzle sends asks to be prepared. Drizzle
 * prepares only the queries it is told to name (`.prepare('name')`) and sends the rest with
 * `prepare: false`, for which postgres.js first has each statement with parameters described and
 * waits for the answer before binding it: two round trips a statement, and nothing sent behind it
 * meanwhile (an audited change's claim, UPDATE and audit row could not travel together). Prepared,
 * a statement is parsed once per connection and then costs one Bind/Execute, pipelined.
 *
 * The pool's own `prepare` option still decides: off through a transaction-mode pooler, which
 * carries no prepared statement (`database-pooling.ts`), and then this changes nothing.
 */
export function preparingStatements<T extends Handle>(sql: T): T {
  // Made once per handle: Drizzle reads `unsafe` for every statement it sends.
  const unsafe = preparedUnsafe(sql);
  const wrapped = (name: 'begin' | 'savepoint') =>
    name in sql ? withPreparingHandle((sql as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!, sql) : undefined;
  const begin = wrapped('begin');
  const savepoint = wrapped('savepoint');
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property === 'unsafe') return unsafe;
      // Statements inside a transaction or savepoint run on its own handle.
      if (property === 'begin' && begin) return begin;
      if (property === 'savepoint' && savepoint) return savepoint;
      return Reflect.get(target, property, receiver);
    },
  });
}

/** `unsafe(query, parameters, options)`, as Drizzle calls it, asking to prepare. */
function preparedUnsafe(target: Handle): postgres.Sql['unsafe'] {
  return ((query: string, parameters?: postgres.ParameterOrJSON<never>[], options?: postgres.UnsafeQueryOptions) =>
    target.unsafe(query, parameters, { ...options, prepare: true })) as postgres.Sql['unsafe'];
}

/** `begin(options?, callback)` or `savepoint(name?, callback)`, its callback given a preparing handle. */
function withPreparingHandle(method: (...args: unknown[]) => unknown, target: Handle) {
  return (...args: unknown[]) => {
    const callback = args.at(-1);
    if (typeof callback !== 'function') return method.apply(target, args);
    return method.apply(target, [...args.slice(0, -1), (handle: postgres.TransactionSql) => callback(preparingStatements(handle))]);
  };
}
