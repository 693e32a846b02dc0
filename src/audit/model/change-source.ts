/**
 * Where a change was made: through the API, or straight in the database (`psql`, a migration, a
 * backfill, another service), where the resource's backstop trigger records it. A backstop row is
 * told apart by `details.database` — who connected, with which application and backend — which no
 * API row carries; so the source is sealed with the rest of the row and needs no column of its own.
 */
export const CHANGE_SOURCES = ['API', 'DATABASE'] as const;
export type ChangeSource = (typeof CHANGE_SOURCES)[number];

/** The session a backstop row was written in, as `details.database` keeps it. */
export interface DatabaseSession {
  /** `session_user`: the role that logged in (a `SET ROLE` later does not hide it). */
  readonly role: string;
  /** `application_name` the client set; empty when it set none. */
  readonly applicationName: string;
  /** `pg_backend_pid()`, to find the session in PostgreSQL's own logs. */
  readonly backendPid: number;
}

/** The source of a row, from its `details`. */
export function sourceOf(details: Readonly<Record<string, unknown>>): ChangeSource {
  return details.database !== undefined ? 'DATABASE' : 'API';
}
