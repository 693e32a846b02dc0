import postgres from 'postgres';
import { graphql } from './graphql-http';
import { rawIdOf } from './items';
import { stopApi, type RunningApi } from './node-process';

/**
 * Traffic for database-fault tests: owners updating and creating items, an admin listing other
 * users' items (audited reads) and anonymous callers (refusals), each in its own loop until stopped,
 * and the checks every such test makes afterwards: that no answer leaked internals, and that the
 * trail matches the items exactly.
 */

export interface MixedLoadOptions {
  /** The `/graphql` URL. */
  readonly url: string;
  readonly ownerToken: string;
  readonly adminToken: string;
  /** Items of the owner that the updaters change, one unique title per attempt. */
  readonly itemIds: readonly string[];
  /** Starts every title this load writes, so that loads running at once never write the same one. */
  readonly label?: string;
}

export interface LoadReport {
  /** Responses received, by kind of request. */
  readonly answered: number;
  /** Responses that carried an error (the requests the fault hit). */
  readonly failed: number;
  /** Requests that got no HTTP response at all (connection refused or reset: the server is gone). */
  readonly unanswered: number;
  /** Responses that are not a clean GraphQL answer, described for the assertion message. */
  readonly unclean: string[];
  /** Admin lists answered with data: each must have its audit row, listing the items served. */
  readonly adminReadsServed: ServedRead[];
  /** The `X-Request-Id` of every response. */
  readonly requestIds: string[];
}

export interface ServedRead {
  readonly requestId: string;
  readonly itemIds: string[];
}

export interface MixedLoad {
  /** Stops every loop after its current request and reports. */
  stop(): Promise<LoadReport>;
}

const UPDATERS = 8;
const CREATORS = 1;
const ADMIN_READERS = 3;
const ANONYMOUS = 2;

/** Codes a client may see when the database fails under it; anything else is a leak or a bug. */
const CLEAN_CODES = new Set(['INTERNAL_SERVER_ERROR', 'UNAUTHENTICATED']);
/** What an error message must never contain: SQL, driver errors, addresses, stack frames. */
const INTERNALS = /\b(select|insert|update|delete|from|where)\b|postgres|CONNECTION_|ECONN|terminat|\d+\.\d+\.\d+\.\d+|\.js:\d+|\n\s+at /i;

/**
 * What is wrong with an answer to a request the database failed under, for an assertion message:
 * nothing, or a status other than 200/503, an unexpected code, extensions beyond the code, or a
 * message that gives away internals.
 */
export function uncleanAnswers(status: number, body: { errors?: { message: string; extensions?: Record<string, unknown> }[] }): string[] {
  const unclean: string[] = [];
  for (const error of body.errors ?? []) {
    const { code, ...rest } = error.extensions ?? {};
    if (!CLEAN_CODES.has(code as string) || Object.keys(rest).length > 0 || INTERNALS.test(error.message)) {
      unclean.push(`HTTP ${status}: ${JSON.stringify(error).slice(0, 300)}`);
    }
  }
  if (status !== 200 && status !== 503) unclean.push(`HTTP ${status}: ${JSON.stringify(body).slice(0, 200)}`);
  return unclean;
}

export function startMixedLoad(options: MixedLoadOptions): MixedLoad {
  let stopping = false;
  let answered = 0;
  let failed = 0;
  let unanswered = 0;
  const unclean: string[] = [];
  const adminReadsServed: ServedRead[] = [];
  const requestIds: string[] = [];

  async function send(token: string | undefined, query: string): Promise<{ status: number; requestId: string; body: any } | undefined> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await fetch(options.url, { method: 'POST', headers, body: JSON.stringify({ query }) });
    } catch {
      unanswered++;
      return undefined;
    }
    const text = await response.text();
    answered++;
    const requestId = response.headers.get('x-request-id') ?? '';
    requestIds.push(requestId);
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      unclean.push(`HTTP ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
      return undefined;
    }
    if (body.errors) failed++;
    unclean.push(...uncleanAnswers(response.status, body));
    return { status: response.status, requestId, body };
  }

  function loop(step: (n: number) => Promise<void>): Promise<void> {
    return (async () => {
      for (let n = 0; !stopping; n++) await step(n);
    })();
  }

  const loops = [
    ...Array.from({ length: UPDATERS }, (_, w) =>
      loop(async (n) => {
        const id = options.itemIds[(w + n) % options.itemIds.length];
        await send(options.ownerToken, `mutation { updateItem(id: "${id}", input: {title: "${options.label ?? ''}u${w}-${n}"}) { id title } }`);
      }),
    ),
    ...Array.from({ length: CREATORS }, (_, w) =>
      loop(async (n) => {
        await send(options.ownerToken, `mutation { createItem(input: {title: "${options.label ?? ''}c${w}-${n}"}) { id } }`);
      }),
    ),
    ...Array.from({ length: ADMIN_READERS }, () =>
      loop(async () => {
        const result = await send(options.adminToken, '{ items(first: 5) { nodes { id title } } }');
        const nodes: { id: string }[] | undefined = result?.body.data?.items?.nodes;
        if (nodes) adminReadsServed.push({ requestId: result!.requestId, itemIds: nodes.map((node) => rawIdOf(node.id)) });
      }),
    ),
    ...Array.from({ length: ANONYMOUS }, () =>
      loop(async () => {
        await send(undefined, '{ me { userId } }');
      }),
    ),
  ];

  return {
    async stop() {
      stopping = true;
      await Promise.all(loops);
      return { answered, failed, unanswered, unclean, adminReadsServed, requestIds };
    },
  };
}

/**
 * `count` requests at once, of every kind the load sends and more than the pool has connections,
 * so each connection is used: all must succeed.
 */
export async function expectRequestsSucceed(options: MixedLoadOptions, count: number): Promise<void> {
  const post = (token: string, query: string) =>
    fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query }),
    }).then(async (response) => ({ status: response.status, body: (await response.json()) as { errors?: unknown[] } }));
  const responses = await Promise.all(
    Array.from({ length: count }, (_, n) => {
      const id = options.itemIds[n % options.itemIds.length];
      if (n % 3 === 0) return post(options.adminToken, '{ items(first: 5) { nodes { id } } }');
      if (n % 3 === 1) return post(options.ownerToken, `mutation { updateItem(id: "${id}", input: {title: "after-${n}"}) { id } }`);
      return post(options.ownerToken, `mutation { createItem(input: {title: "after-${n}"}) { id } }`);
    }),
  );
  expect(responses.filter((response) => response.status !== 200 || response.body.errors)).toEqual([]);
}

/**
 * Every committed change has exactly its `success` row and every such row its change: each item
 * has one `create_item` row, and replaying its `update_item` rows from the created title leads,
 * link by link, to the title it has now (titles are unique per attempt, so a row for a change
 * that did not commit, or a change without its row, breaks the chain).
 */
export async function expectTrailMatchesItems(sql: postgres.Sql): Promise<void> {
  const items = await sql<{ id: string; title: string }[]>`select id::text, title from items order by items.id`;
  const created = await sql<{ resource_id: string; title: string }[]>`
    select resource_id, details->'after'->>'title' as title from audit_logs
    where action = 'create_item' and outcome = 'success' order by resource_id::bigint`;
  const updates = await sql<{ resource_id: string; from: string; to: string }[]>`
    select resource_id, details->'changes'->'title'->>'from' as from, details->'changes'->'title'->>'to' as to
    from audit_logs where action = 'update_item' and outcome = 'success' order by id`;

  expect(created.map((row) => row.resource_id)).toEqual(items.map((item) => item.id));
  for (const item of items) {
    let title = created.find((row) => row.resource_id === item.id)!.title;
    const chain: string[] = [title];
    for (const row of updates.filter((update) => update.resource_id === item.id)) {
      expect({ item: item.id, after: chain, from: row.from }).toEqual({ item: item.id, after: chain, from: title });
      title = row.to;
      chain.push(title);
    }
    expect({ item: item.id, title: item.title }).toEqual({ item: item.id, title });
  }
}

/**
 * Every admin read answered with data has exactly one `admin_view_item` row, which lists the items
 * it served (in `resource_id` when it served one, in `resource_ids` when several).
 */
export async function expectServedReadsRecorded(sql: postgres.Sql, reads: readonly ServedRead[]): Promise<void> {
  const rows = await sql<{ request_id: string; listed: string[] }[]>`
    select request_id, case when resource_id is null then resource_ids else array[resource_id] end as listed
    from audit_logs
    where action = 'admin_view_item' and request_id = any(${reads.map((read) => read.requestId)})`;
  const recorded = new Map<string, string[][]>();
  for (const row of rows) recorded.set(row.request_id, [...(recorded.get(row.request_id) ?? []), [...row.listed].sort()]);
  const unrecorded = reads.filter((read) => {
    const lists = recorded.get(read.requestId) ?? [];
    return lists.length !== 1 || lists[0]!.join() !== [...read.itemIds].sort().join();
  });
  expect(unrecorded.map((read) => ({ ...read, recorded: recorded.get(read.requestId) ?? [] }))).toEqual([]);
}

/** Creates `count` items as the owner; returns their ids. */
export async function seedItems(url: string, ownerToken: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < count; n++) {
    const { body } = await graphql(url, ownerToken, `mutation { createItem(input: {title: "initial-${n}"}) { id } }`);
    ids.push(body.data.createItem.id);
  }
  return ids;
}

/**
 * What every fault test asserts once the fault is over: the process never died, the fault did hit
 * requests and each got a clean answer, later requests succeed, the trail matches the items and
 * every served admin read, and the server still stops cleanly.
 */
export async function expectSurvived(api: RunningApi, report: LoadReport, traffic: MixedLoadOptions, databaseUrl: string, afterRequests: number): Promise<void> {
  // A crash shows up here with the driver's stack trace on stderr.
  expect({ exitCode: api.proc.child.exitCode, signal: api.proc.child.signalCode, stderr: api.proc.output.stderr }).toEqual({
    exitCode: null,
    signal: null,
    stderr: '',
  });
  expect(report.failed).toBeGreaterThan(0); // the fault did hit requests...
  expect(report.unanswered).toBe(0); // ...each of which still got an answer
  expect(report.unclean).toEqual([]);

  await expectRequestsSucceed(traffic, afterRequests);

  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await expectTrailMatchesItems(sql);
    await expectServedReadsRecorded(sql, report.adminReadsServed);
  } finally {
    await sql.end();
  }

  const exit = await stopApi(api);
  expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
}
