/** How deep to follow `cause`: drizzle wraps the driver's error once; more is a loop or a bug. */
const MAX_CAUSE_DEPTH = 5;

/** A machine code (SQLSTATE `23514`, postgres.js `CONNECTION_CLOSED`), never free text. */
const ERROR_CODE = /^[A-Z0-9_]{1,40}$/;

/**
 * The `details` of an `error` row: the name of the error at the root of the failure and its code,
 * e.g. `{ error: 'PostgresError', code: '23514' }`. drizzle wraps the driver's error (the one with
 * the SQLSTATE) in a `DrizzleQueryError` as its `cause`. Never a message: those hold the SQL, its
 * parameters and PostgreSQL's description of the row (the record's contents).
 */
export function describeFailure(error: unknown): Record<string, unknown> {
  let root = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && root instanceof Error && root.cause instanceof Error; depth++) root = root.cause;
  const { name, code } = (root ?? {}) as { name?: unknown; code?: unknown };
  return {
    error: typeof name === 'string' ? name : 'Error',
    ...(typeof code === 'string' && ERROR_CODE.test(code) ? { code } : {}),
  };
}
