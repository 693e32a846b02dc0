/**
 * Where a change was made: through the API, or straight in the database (`psql`, a migration, a
 * backfill, another service), where the resource's backstop trigger records it. A backstop row is
 * told apart by `details.database` — who connected, with which application and backend — which no
 * API row carries; so the source is sealed with the rest of the row and needs no column of its own.
 */
export const CHANGE_SOURCES = ['API', 'DATABASE'] as const;
export type ChangeSource = (typeof CHANGE_SOURCES)[number];

/** The key of `details` a backstop row keeps its session under, and no API row has. */
export const DATABASE_SESSION_KEY = 'database';

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
  return details[DATABASE_SESSION_KEY] !== undefined ? 'DATABASE' : 'API';
}

/**
 * What a change row says about record `id`: the row's own `details` when it is about that record
 * alone, or its entry in `details.byRecord` when a statement outside the API changed several.
 */
export function changeOfRecord(details: Readonly<Record<string, unknown>>, id: string): Readonly<Record<string, unknown>> | undefined {
  const byRecord = details.byRecord as Record<string, Record<string, unknown>> | undefined;
  return byRecord === undefined ? details : byRecord[id];
}
