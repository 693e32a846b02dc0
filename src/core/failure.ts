/**
 * What may be said of a failure outside the process — in an audit row, on a command's stderr, in a
 * log line — without its data: error messages of the database layer carry the SQL, its parameters
 * and the values of rows, so only names and machine codes leave.
 */

/** How deep to follow wrapped errors: drizzle and Apollo wrap once each; more is a loop or a bug. */
export const MAX_WRAP_DEPTH = 5;

/** A machine code (SQLSTATE `23514`, postgres.js `CONNECTION_CLOSED`), never free text. */
const MACHINE_CODE = /^[A-Z0-9_]{1,40}$/;

/** The error `error` wraps: its `cause`, or the `originalError` of a GraphQL error. */
export function wrappedError(error: Error): Error | undefined {
  if (error.cause instanceof Error) return error.cause;
  const { originalError } = error as { originalError?: unknown };
  return originalError instanceof Error ? originalError : undefined;
}

/** The error at the root of a failure (drizzle wraps the driver's, which has the SQLSTATE). */
export function rootError(error: unknown): unknown {
  let root = error;
  for (let depth = 0; depth < MAX_WRAP_DEPTH && root instanceof Error; depth++) {
    const inner = wrappedError(root);
    if (!inner) break;
    root = inner;
  }
  return root;
}

/** The root error's code, when it is a machine code rather than text. */
function failureCode(root: unknown): string | undefined {
  const code = (root as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && MACHINE_CODE.test(code) ? code : undefined;
}

/**
 * The `details` of an `error` row: the name of the error at the root of the failure and its code,
 * e.g. `{ error: 'PostgresError', code: '23514' }`; never a message.
 */
export function describeFailure(error: unknown): Record<string, unknown> {
  const root = rootError(error);
  const { name } = (root ?? {}) as { name?: unknown };
  const code = failureCode(root);
  return { error: typeof name === 'string' ? name : 'Error', ...(code ? { code } : {}) };
}

/**
 * What a command prints on stderr when `what` fails: PostgreSQL's own message (which names objects,
 * never values), or the failure's code; never a wrapped driver message, which would carry the SQL
 * and its parameters.
 */
export function failureLine(error: unknown, what: string): string {
  const root = rootError(error);
  if (root instanceof Error && root.name === 'PostgresError') return `PostgreSQL refused: ${root.message}`;
  const code = failureCode(root);
  return code ? `${what} failed: ${code}` : `${what} failed`;
}
