import type postgres from 'postgres';
import type { GraphQLResponse, RequestOptions, TestServer } from './test-server';

/** An audit row's predictable columns (all but `id` and `occurred_at`), as stored. */
export interface StoredAuditRow {
  user_id: string | null;
  user_role: string | null;
  action: string;
  resource_type: string | null;
  resource_id: string | null;
  resource_ids: string[];
  owner_ids: string[];
  outcome: string;
  admin_bypass: boolean;
  details: Record<string, any>;
  request_id: string | null;
  operation_name: string | null;
  ip: string | null;
  user_agent: string | null;
}

/** The rows one HTTP request wrote, in order, found by the request id the server echoed to it. */
export async function auditRowsOfRequest(sql: postgres.Sql, requestId: string): Promise<StoredAuditRow[]> {
  const rows = await sql<StoredAuditRow[]>`
    select user_id, user_role, action, resource_type, resource_id, resource_ids, owner_ids, outcome, admin_bypass, details,
           request_id, operation_name, ip, user_agent
    from audit_logs where request_id = ${requestId} order by id`;
  return [...rows];
}

/**
 * For suites that seed history at chosen times, from `since` on: creates the months of the trail
 * from `since` up to `until` (now unless given: a suite seeding only long ago names its end, as
 * each month is a table with every index of the trail to create) and turns off the trigger that stamps every row's `id` and `occurred_at`, as only
 * the table's owner (here the test's superuser) can. The server never supplies either, so what
 * these suites test does not depend on the trigger.
 */
export async function allowBackdatedRows(sql: postgres.Sql, since: string, until?: string): Promise<void> {
  await sql`select audit_logs_create_partitions(${since}::timestamptz, coalesce(${until ?? null}::timestamptz, now()))`;
  await sql`alter table audit_logs disable trigger audit_logs_stamp_server_values`;
}

/** The `User-Agent` of {@link tracedRequest}, as its rows record it. */
export const TRACED_USER_AGENT = 'audit-test/1';

export interface TracedResponse extends GraphQLResponse {
  /** The request id the server gave the request, as echoed in its `X-Request-Id` response header. */
  requestId: string;
  /** The audit rows the request wrote, in order. */
  rows(): Promise<StoredAuditRow[]>;
}

/** The request id the server echoed for `response`; every response carries one. */
export function echoedRequestId(response: Pick<GraphQLResponse, 'headers'>): string {
  const requestId = response.headers.get('x-request-id');
  expect(requestId).toEqual(expect.any(String));
  return requestId!;
}

/** Sends one operation; the request id the server gave it picks out exactly its audit rows. */
export async function tracedRequest(server: TestServer, query: string, options: RequestOptions = {}): Promise<TracedResponse> {
  const response = await server.graphql(query, { ...options, headers: { 'user-agent': TRACED_USER_AGENT, ...options.headers } });
  const requestId = echoedRequestId(response);
  return { ...response, requestId, rows: () => auditRowsOfRequest(server.sql, requestId) };
}
