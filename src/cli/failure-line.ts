/**
 * What a command prints on stderr when it fails: PostgreSQL's own message (which names objects,
 * never values), or the failure's code; never a wrapped driver message, which would carry the SQL
 * and its parameters.
 */
export function failureLine(error: unknown, what: string): string {
  const root = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  if (root instanceof Error && root.name === 'PostgresError') return `PostgreSQL refused: ${root.message}`;
  const code = (root as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? `${what} failed: ${code}` : `${what} failed`;
}
