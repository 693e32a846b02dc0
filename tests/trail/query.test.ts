import { allowBackdatedRows, tracedRequest, TRACED_USER_AGENT, type StoredAuditRow } from '../support/audit-rows';
import { walkConnection, type ConnectionPage } from '../support/connection-walk';
import { base64url } from '../support/encoding';
import { auditLogId, itemId, rawIdOf } from '../support/global-ids';
import { AUTHENTICATION_REQUIRED, dataOf, expectFieldError, expectInvalidInput, expectRequestError } from '../support/errors';
import { admin, alice, startTestServer, type GraphQLResponse, type RequestOptions, type TestServer } from '../support/test-server';

/*
 * The `auditLogs` / `auditLog` queries against a seeded trail, over real HTTP and a real database.
 *
 * Expectations are computed in TypeScript from the table's rows (read back with a plain SELECT and
 * filtered/sorted here), never with the service's SQL. Every admin query of the trail appends a
 * `view_audit_logs` row before its response is sent, so each walk re-reads the table right before
 * it starts: rows written by earlier walks are part of the expectation, rows written during a
 * walk are newer than every row the walk can still reach and must never appear in it.
 */

// ---------------------------------------------------------------------------------------------
// Seed: 3,000 rows on 500 distinct timestamps (exactly 6 rows share each one), spread over ~7 days
// of 2024 so they are all older than anything the server writes while the tests run. Every column
// cycles with a modulus coprime to the others, so combinations of filters are not degenerate.
// ---------------------------------------------------------------------------------------------

const SEED_ROWS = 3000;
const SEED_START_MS = Date.parse('2024-03-01T00:00:00.000Z');
const SLOT_MS = 20 * 60_000;

/** The ISO timestamp of seed slot `n` (0 ≤ n < 500); every slot holds 6 rows. */
const slot = (n: number): string => new Date(SEED_START_MS + n * SLOT_MS).toISOString();

const SEED_SQL = `
  insert into audit_logs (occurred_at, user_id, user_role, action, resource_type, resource_id, owner_ids, outcome,
                          admin_bypass, details, request_id, operation_name, ip, user_agent)
  select timestamptz '2024-03-01 00:00:00+00' + ((g * 7919) % 500) * interval '20 minutes',
         case when g % 29 = 0 then null else 'user-' || ((g * 37) % 41) end,
         case when g % 29 = 0 then null when (g * 37) % 41 < 4 then 'ADMIN' else 'USER' end,
         (array['create_item', 'update_item', 'delete_item', 'view_item', 'admin_view_item',
                'authenticate', 'view_audit_logs'])[1 + (g * 11) % 7],
         case when g % 17 = 0 then null else (array['item', 'document', 'audit_log'])[1 + (g * 5) % 3] end,
         case when g % 17 = 0 then null else ((g * 13) % 59)::text end,
         -- Owners only on rows of no resource type, so queries of the trail disclose no records.
         case when g % 17 <> 0 then '{}'
              when g % 2 = 0 then array['user-' || ((g * 3) % 5), 'user-' || ((g * 3 + 1) % 5)]
              else array['user-' || ((g * 3) % 5)] end,
         case when g % 11 = 0 then 'denied' when g % 23 = 0 then 'error' else 'success' end,
         g % 19 = 0,
         jsonb_build_object('seq', g),
         'req-' || (g / 3),
         'Op' || (g % 5),
         '10.0.' || (g % 7) || '.1',
         'seed-agent'
  from generate_series(1, ${SEED_ROWS}) g`;

// ---------------------------------------------------------------------------------------------
// The expectation side: rows as stored, and the filter semantics written out in TypeScript.
// ---------------------------------------------------------------------------------------------

type Outcome = 'SUCCESS' | 'DENIED' | 'ERROR';

/** `AuditLogFilter` as a client sends it (dates as ISO strings). */
interface Filter {
  userId?: string;
  action?: string;
  actions?: string[];
  excludeActions?: string[];
  userRole?: 'ADMIN' | 'USER';
  resourceType?: string;
  resourceId?: string;
  ownerId?: string;
  outcome?: Outcome;
  adminBypass?: boolean;
  requestId?: string;
  ip?: string;
  operationName?: string;
  from?: string;
  to?: string;
}

interface StoredRow {
  id: bigint;
  /** `occurred_at` in microseconds since the epoch: the database's full precision. */
  micros: bigint;
  userId: string | null;
  userRole: string | null;
  action: string;
  resourceType: string | null;
  resourceId: string | null;
  ownerIds: string[];
  outcome: string;
  adminBypass: boolean;
  requestId: string | null;
  ip: string | null;
  operationName: string | null;
}

/** Every row of the trail as it stands now, unfiltered and unordered. */
async function readRows(): Promise<StoredRow[]> {
  type Columns =
    | 'user_id'
    | 'user_role'
    | 'action'
    | 'resource_type'
    | 'resource_id'
    | 'owner_ids'
    | 'outcome'
    | 'admin_bypass'
    | 'request_id'
    | 'ip'
    | 'operation_name';
  const rows = await server.sql<(Pick<StoredAuditRow, Columns> & { id: string; micros: string })[]>`
    select id::text as id, (extract(epoch from occurred_at) * 1000000)::bigint::text as micros,
           user_id, user_role, action, resource_type, resource_id, owner_ids, outcome, admin_bypass, request_id, ip,
           operation_name
    from audit_logs`;
  return rows.map((row) => ({
    id: BigInt(row.id),
    micros: BigInt(row.micros),
    userId: row.user_id,
    userRole: row.user_role,
    action: row.action,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    ownerIds: row.owner_ids,
    outcome: row.outcome,
    adminBypass: row.admin_bypass,
    requestId: row.request_id,
    ip: row.ip,
    operationName: row.operation_name,
  }));
}

const microsOf = (iso: string): bigint => BigInt(Date.parse(iso)) * 1000n;

/** The documented semantics: every given condition holds; `from` inclusive, `to` exclusive. */
function matches(row: StoredRow, filter: Filter): boolean {
  const same = <T>(wanted: T | undefined, actual: T) => wanted === undefined || wanted === actual;
  return (
    same(filter.userId, row.userId) &&
    same(filter.action, row.action) &&
    (filter.actions === undefined || filter.actions.includes(row.action)) &&
    (filter.excludeActions === undefined || !filter.excludeActions.includes(row.action)) &&
    same(filter.userRole, row.userRole) &&
    (filter.ownerId === undefined || row.ownerIds.includes(filter.ownerId)) &&
    same(filter.ip, row.ip) &&
    same(filter.operationName, row.operationName) &&
    same(filter.resourceType, row.resourceType) &&
    // The filter takes an item's global id (see `walk`): rows naming key 42 of another type do not match.
    same(filter.resourceId, row.resourceId) &&
    (filter.resourceId === undefined || row.resourceType === 'item') &&
    same(filter.outcome?.toLowerCase(), row.outcome) &&
    same(filter.adminBypass, row.adminBypass) &&
    same(filter.requestId, row.requestId) &&
    (filter.from === undefined || row.micros >= microsOf(filter.from)) &&
    (filter.to === undefined || row.micros < microsOf(filter.to))
  );
}

/** Newest first: timestamp descending, then id descending. */
function newestFirst(a: StoredRow, b: StoredRow): number {
  if (a.micros !== b.micros) return a.micros > b.micros ? -1 : 1;
  return a.id > b.id ? -1 : a.id < b.id ? 1 : 0;
}

type Order = 'NEWEST_FIRST' | 'OLDEST_FIRST';

/** The ids `filter` must return in `order`, given the trail as it is right now, out of how many. */
async function expectation(filter: Filter, order: Order = 'NEWEST_FIRST'): Promise<{ ids: string[]; outOf: number }> {
  const rows = await readRows();
  const ids = rows
    .filter((row) => matches(row, filter))
    .sort((a, b) => (order === 'NEWEST_FIRST' ? newestFirst(a, b) : newestFirst(b, a)))
    .map((row) => row.id.toString());
  return { ids, outOf: rows.length };
}

// ---------------------------------------------------------------------------------------------
// The API side.
// ---------------------------------------------------------------------------------------------

const PAGE_QUERY = `
  query AuditPage($filter: AuditLogFilter, $first: Int, $after: String, $withTotal: Boolean!, $order: AuditLogOrder! = NEWEST_FIRST) {
    auditLogs(filter: $filter, first: $first, after: $after, order: $order) {
      totalCount @include(if: $withTotal)
      edges { cursor node { id } }
      pageInfo { hasNextPage endCursor }
    }
  }`;

/** One page of `auditLogs` with any argument; its operation name is what the audit row records. */
const LIST_QUERY = `
  query ReadTrail($filter: AuditLogFilter, $first: Int, $after: String) {
    auditLogs(filter: $filter, first: $first, after: $after) { edges { cursor } }
  }`;

interface PageData {
  auditLogs: ConnectionPage & { totalCount?: number };
}

const asAdmin = <T = any>(query: string, options: Omit<RequestOptions, 'as'> = {}): Promise<GraphQLResponse<T>> =>
  server.graphql<T>(query, { as: admin, ...options });

interface Walk {
  ids: string[];
  /** `totalCount` as selected on the first page. */
  totalCount: number;
  pages: number;
}

/**
 * Walks `filter` page by page (see {@link walkConnection}), selecting `totalCount` on the first
 * page only. `betweenPages` runs after each page that has a successor, with that page's last id.
 */
async function walk(filter: Filter, first: number, betweenPages?: (lastId: string) => Promise<void>, order: Order = 'NEWEST_FIRST'): Promise<Walk> {
  const { pages, ids } = await walkConnection(
    first,
    async (after) => {
      const apiFilter = filter.resourceId === undefined ? filter : { ...filter, resourceId: itemId(filter.resourceId) };
      const variables = { filter: apiFilter, first, after, withTotal: after === null, order };
      const page = dataOf(await asAdmin<PageData>(PAGE_QUERY, { variables })).auditLogs;
      if (after !== null) expect(page.totalCount).toBeUndefined();
      return page;
    },
    betweenPages && ((page) => betweenPages(rawIdOf(page.edges.at(-1)!.node.id))),
  );
  return { ids: ids.map(rawIdOf), totalCount: pages[0]!.totalCount!, pages: pages.length };
}

/** The `view_audit_logs` row a request must leave, apart from what depends on the caller. */
const viewRow = (fields: Partial<StoredAuditRow>): StoredAuditRow => ({
  user_id: 'root',
  user_role: 'ADMIN',
  action: 'view_audit_logs',
  resource_type: 'audit_log',
  resource_id: null,
  resource_ids: [],
  owner_ids: [],
  outcome: 'success',
  admin_bypass: false,
  details: {},
  request_id: null,
  operation_name: null,
  ip: '127.0.0.1',
  user_agent: TRACED_USER_AGENT,
  ...fields,
});

// ---------------------------------------------------------------------------------------------

let server: TestServer;
let seededIds: bigint[];

beforeAll(async () => {
  server = await startTestServer();
  // Only the months this file writes to: each month is a table with every index of the trail for
  // each page's statement to plan, so the months from 2024 to now would make every page slower.
  await allowBackdatedRows(server.sql, '2024-01-01', '2024-04-01');
  await server.sql.unsafe(SEED_SQL);
  seededIds = (await readRows()).map((row) => row.id);
}, 60_000);
afterAll(() => server?.stop());

it('seeds the trail the filter tests rely on', () => {
  expect(seededIds).toHaveLength(SEED_ROWS);
});

describe('auditLogs filters, walked page by page', () => {
  // So the admin's own view rows exist even when a single case runs on its own.
  beforeAll(async () => {
    dataOf(await asAdmin('{ auditLogs(first: 1) { nodes { id } } }'));
  });

  const from = slot(150);
  const to = slot(350);
  // [name, filter, page size]; `from` and `to` sit exactly on seeded timestamps, so the
  // inclusive/exclusive bounds are visible. Each walk takes several pages but no more than ~16:
  // every page is a request, and the suite walks 40 filters.
  const cases: [string, Filter, number][] = [
    ['no filter', {}, 200],
    ['userId', { userId: 'user-7' }, 17],
    ['action', { action: 'update_item' }, 61],
    ['actions', { actions: ['create_item', 'delete_item'] }, 97],
    ['resourceType', { resourceType: 'document' }, 97],
    ['resourceId', { resourceId: '42' }, 13],
    ['outcome', { outcome: 'DENIED' }, 50],
    ['adminBypass true', { adminBypass: true }, 29],
    ['adminBypass false', { adminBypass: false }, 200],
    // Exactly one full page: hasNextPage must still be false.
    ['requestId', { requestId: 'req-500' }, 3],
    ['from only', { from }, 150],
    ['to only', { to }, 150],
    ['from + to', { from, to }, 100],
    ['userId + action', { userId: 'user-3', action: 'view_item' }, 3],
    ['actions + outcome', { actions: ['authenticate', 'view_audit_logs', 'admin_view_item'], outcome: 'ERROR' }, 7],
    // One branch per action, merged newest first (and a repeated action read once).
    ['userId + actions', { userId: 'user-3', actions: ['view_item', 'update_item', 'view_item'] }, 2],
    ['actions + from', { actions: ['update_item', 'view_item', 'logout'], from }, 67],
    ['resourceType + resourceId', { resourceType: 'item', resourceId: '7' }, 5],
    ['excludeActions', { excludeActions: ['view_item', 'authenticate', 'view_audit_logs'] }, 199],
    ['userRole ADMIN', { userRole: 'ADMIN' }, 43],
    ['userRole USER', { userRole: 'USER' }, 200],
    ['ownerId', { ownerId: 'user-3' }, 7],
    ['ownerId + action', { ownerId: 'user-3', action: 'update_item' }, 2],
    ['ip', { ip: '10.0.3.1' }, 101],
    ['operationName', { operationName: 'Op2' }, 97],
    ['userRole + excludeActions + from', { userRole: 'USER', excludeActions: ['create_item'], from }, 173],
    ['adminBypass + from + to', { adminBypass: true, from, to }, 11],
    ['userId + from', { userId: 'user-12', from }, 9],
    ['outcome + resourceType + to', { outcome: 'SUCCESS', resourceType: 'audit_log', to }, 53],
    // The admin's own earlier queries of the trail, written while this file runs.
    ['the admin’s own view_audit_logs rows', { userId: 'root', action: 'view_audit_logs' }, 29],
  ];

  it.each(cases)('%s', async (_name, filter, first) => {
    const { ids: expected, outOf } = await expectation(filter);
    expect(expected.length).toBeGreaterThan(0);
    if (Object.keys(filter).length > 0) expect(expected.length).toBeLessThan(outOf);

    const { ids, totalCount } = await walk(filter, first);

    expect(ids).toEqual(expected);
    expect(totalCount).toBe(expected.length);
  });

  describe('oldest first (order: OLDEST_FIRST)', () => {
    // Bounded by `to` where the walk's own view_audit_logs rows, the newest, would match.
    const oldestFirst: [string, Filter, number][] = [
      ...cases.filter(([name]) => ['actions', 'resourceId', 'from + to', 'userId + actions', 'actions + from', 'outcome', 'ownerId', 'ip'].includes(name)),
      ['to only', { to }, 150],
      ['adminBypass false + to', { adminBypass: false, to }, 151],
    ];

    it.each(oldestFirst)('%s', async (_name, filter, first) => {
      const { ids: expected } = await expectation(filter, 'OLDEST_FIRST');
      const { ids, totalCount } = await walk(filter, first, undefined, 'OLDEST_FIRST');

      expect(ids).toEqual(expected);
      expect(totalCount).toBe(expected.length);
    });
  });
});

describe('paging', () => {
  it('walks ≥1,000 rows in pages of 37 without duplicates or gaps while newer rows keep arriving', async () => {
    const filter: Filter = { outcome: 'SUCCESS' };
    const { ids: expected } = await expectation(filter);
    expect(expected.length).toBeGreaterThanOrEqual(1000);
    let inserted = 0;

    const { ids, pages } = await walk(filter, 37, async (lastId) => {
      // Newer by time, and newer by the tie-break (same timestamp as the cursor row, higher id).
      await server.sql`
        insert into audit_logs (action, outcome, resource_type) values ('concurrent_write', 'success', 'item')`;
      await server.sql`
        insert into audit_logs (occurred_at, action, outcome, resource_type)
        select occurred_at, 'concurrent_write', 'success', 'item' from audit_logs where id = ${lastId}`;
      inserted += 2;
    });

    expect(pages).toBe(Math.ceil(expected.length / 37));
    expect(inserted).toBe(2 * (pages - 1));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expected);
  });

  it('keeps microsecond order across pages: rows within one millisecond neither vanish nor repeat', async () => {
    // 12 rows in the same millisecond, microseconds permuted against insertion (id) order, plus a
    // 13th sharing an exact microsecond with another so the id tie-break applies too.
    await server.sql`
      insert into audit_logs (occurred_at, action, outcome)
      select timestamptz '2024-01-15 12:00:00.123000+00' + ((k * 5) % 12) * interval '1 microsecond',
             'micro_probe', 'success'
      from generate_series(1, 12) k`;
    await server.sql`
      insert into audit_logs (occurred_at, action, outcome)
      values (timestamptz '2024-01-15 12:00:00.123007+00', 'micro_probe', 'success')`;
    const filter: Filter = { action: 'micro_probe' };
    const stored = (await readRows()).filter((row) => matches(row, filter));
    expect(new Set(stored.map((row) => row.micros)).size).toBe(12);
    expect(new Set(stored.map((row) => row.micros / 1000n)).size).toBe(1);
    const { ids: expected } = await expectation(filter);

    for (const first of [1, 2, 5]) {
      expect((await walk(filter, first)).ids).toEqual(expected);
      expect((await walk(filter, first, undefined, 'OLDEST_FIRST')).ids).toEqual([...expected].reverse());
    }
  });
});

describe('invalid input is BAD_USER_INPUT naming the field', () => {
  let itemsCursor: string;

  beforeAll(async () => {
    for (const title of ['one', 'two']) {
      dataOf(await server.graphql('mutation($title: String!) { createItem(input: {title: $title}) { id } }', { as: alice, variables: { title } }));
    }
    const items = dataOf(await server.graphql('{ items(first: 1) { pageInfo { endCursor } } }', { as: alice }));
    itemsCursor = items.items.pageInfo.endCursor;
  });

  const cases: [string, () => Record<string, unknown>, string][] = [
    ['first: 0', () => ({ first: 0 }), 'first'],
    ['first: 201', () => ({ first: 201 }), 'first'],
    ['first: null', () => ({ first: null }), 'first'],
    ['a cursor that is not base64url', () => ({ after: 'not a cursor!' }), 'after'],
    ['a cursor of no known kind', () => ({ after: base64url('foo:1') }), 'after'],
    ['an audit cursor without a numeric id', () => ({ after: base64url('audit:abc') }), 'after'],
    ['a cursor from the items query', () => ({ after: itemsCursor }), 'after'],
    ['an empty actions list', () => ({ filter: { actions: [] } }), 'filter.actions'],
    ['more actions than a filter may list', () => ({ filter: { actions: Array.from({ length: 21 }, (_, n) => `action_${n}`) } }), 'filter.actions'],
    ['more actions than a filter may exclude', () => ({ filter: { excludeActions: Array.from({ length: 21 }, (_, n) => `action_${n}`) } }), 'filter.excludeActions'],
    ['from equal to to', () => ({ filter: { from: slot(10), to: slot(10) } }), 'filter.to'],
    ['from after to', () => ({ filter: { from: slot(11), to: slot(10) } }), 'filter.to'],
  ];

  it.each(cases)('%s', async (_name, variables, field) => {
    expectInvalidInput(await asAdmin(LIST_QUERY, { variables: variables() }), { path: 'auditLogs', field, data: null });
  });

  it.each([
    ['a date variable', 'query Bad($from: DateTimeISO) { auditLogs(filter: {from: $from}) { nodes { id } } }', { from: 'yesterday-ish' }, 'from'],
    ['a filter variable', 'query Bad($f: AuditLogFilter) { auditLogs(filter: $f) { nodes { id } } }', { f: { from: 'yesterday-ish' } }, 'f.from'],
  ])('an unparseable date passed through %s', async (_name, query, variables, field) => {
    expectRequestError(await asAdmin(query, { variables }), { status: 400, code: 'BAD_USER_INPUT', field, inOperation: true });
  });

  it('auditLog with an id that is not a number', async () => {
    expectInvalidInput(await asAdmin('{ auditLog(id: "x") { id } }'), { path: 'auditLog', field: 'id', data: { auditLog: null } });
  });
});

describe('auditLog(id)', () => {
  const ALL_FIELDS = `id timestamp userId userRole action resourceType resourceId outcome adminBypass details
                      requestId operationName ip userAgent`;
  const byId = (rowId: string) => asAdmin(`query One($id: ID!) { auditLog(id: $id) { ${ALL_FIELDS} } }`, { variables: { id: auditLogId(rowId) } });

  it('maps every column of a fully populated row', async () => {
    const [{ id }] = await server.sql<{ id: string }[]>`
      insert into audit_logs (occurred_at, user_id, user_role, action, resource_type, resource_id, outcome,
                              admin_bypass, details, request_id, operation_name, ip, user_agent)
      values ('2024-02-29 12:34:56.789123+00', 'user-x', 'ADMIN', 'update_item', 'item', '77', 'error', true,
              ${server.sql.json({ changes: { title: ['a', 'b'] }, n: 1 })}, 'req-fixed', 'UpdateItem', '10.1.2.3', 'curl/8.5')
      returning id::text as id`;

    expect(dataOf(await byId(id!))).toEqual({
      auditLog: {
        id: auditLogId(id!),
        timestamp: '2024-02-29T12:34:56.789Z',
        userId: 'user-x',
        userRole: 'ADMIN',
        action: 'update_item',
        resourceType: 'item',
        resourceId: itemId('77'),
        outcome: 'ERROR',
        adminBypass: true,
        details: { changes: { title: ['a', 'b'] }, n: 1 },
        requestId: 'req-fixed',
        operationName: 'UpdateItem',
        ip: '10.1.2.3',
        userAgent: 'curl/8.5',
      },
    });
  });

  it('maps an anonymous row with empty optional columns to nulls', async () => {
    const [{ id }] = await server.sql<{ id: string }[]>`
      insert into audit_logs (occurred_at, action, outcome) values ('2024-02-29 00:00:00+00', 'authenticate', 'denied')
      returning id::text as id`;

    expect(dataOf(await byId(id!))).toEqual({
      auditLog: {
        id: auditLogId(id!),
        timestamp: '2024-02-29T00:00:00.000Z',
        userId: null,
        userRole: null,
        action: 'authenticate',
        resourceType: null,
        resourceId: null,
        outcome: 'DENIED',
        adminBypass: false,
        details: {},
        requestId: null,
        operationName: null,
        ip: null,
        userAgent: null,
      },
    });
  });

  it('returns null for an id that does not exist', async () => {
    const [{ next }] = await server.sql<{ next: string }[]>`select (max(id) + 1000)::text as next from audit_logs`;
    expect(dataOf(await byId(next!))).toEqual({ auditLog: null });
  });
});

describe('reading the trail is itself audited', () => {
  it('an admin’s auditLogs query leaves a success row with the filter, page size and cursor', async () => {
    const filter = { userId: 'user-7', from: slot(100) };
    const firstPage = dataOf(await asAdmin(LIST_QUERY, { variables: { filter, first: 2 } }));
    const after = firstPage.auditLogs.edges[1].cursor;

    const response = await tracedRequest(server, LIST_QUERY, {
      as: admin,
      operationName: 'ReadTrail',
      variables: { filter, first: 5, after },
    });

    expect(dataOf(response).auditLogs.edges).toHaveLength(5);
    expect(await response.rows()).toEqual([
      viewRow({ details: { filter, first: 5, after, fields: ['Query.auditLogs'], count: 1 }, request_id: response.requestId, operation_name: 'ReadTrail' }),
    ]);
  });

  it('records the default page size and absent filter and cursor as such', async () => {
    const response = await tracedRequest(server, 'query Defaults { auditLogs { nodes { id } } }', { as: admin });

    const shown: string[] = dataOf(response).auditLogs.nodes.map((node: { id: string }) => rawIdOf(node.id));
    expect(shown).toHaveLength(50);
    // The newest rows include items written through the API: the row names what they disclosed.
    const [disclosed] = await server.sql<{ ids: string[] | null; owners: string[] | null }[]>`
      select array_agg(distinct resource_id) as ids, array_agg(distinct owner) as owners
      from audit_logs, unnest(owner_ids) as owner where id in ${server.sql(shown)}`;
    const expected = disclosed!.ids
      ? { resource_type: 'item', resource_ids: disclosed!.ids, owner_ids: disclosed!.owners!, admin_bypass: disclosed!.owners!.some((owner) => owner !== 'root') }
      : {};
    const [row] = await response.rows();
    expect({ ...row, resource_ids: [...row!.resource_ids].sort(), owner_ids: [...row!.owner_ids].sort() }).toEqual(
      viewRow({
        ...expected,
        details: { filter: null, first: 50, after: null, fields: ['Query.auditLogs'], count: 1 },
        request_id: response.requestId,
        operation_name: 'Defaults',
      }),
    );
  });

  it('an admin’s auditLog query leaves a success row naming the entry', async () => {
    const id = seededIds[41]!.toString();
    const response = await tracedRequest(server, 'query ReadEntry($id: ID!) { auditLog(id: $id) { id } }', {
      as: admin,
      operationName: 'ReadEntry',
      variables: { id: auditLogId(id) },
    });

    expect(dataOf(response)).toEqual({ auditLog: { id: auditLogId(id) } });
    expect(await response.rows()).toEqual([
      viewRow({ resource_id: id, details: { id: auditLogId(id), fields: ['Query.auditLog'], count: 1 }, request_id: response.requestId, operation_name: 'ReadEntry' }),
    ]);
  });

  it('a user is FORBIDDEN and leaves a denied row with their id', async () => {
    const response = await tracedRequest(server, LIST_QUERY, {
      as: alice,
      operationName: 'ReadTrail',
      variables: { filter: { action: 'delete_item' }, first: 3 },
    });

    expectFieldError(response, { path: 'auditLogs', code: 'FORBIDDEN', data: null });
    expect(await response.rows()).toEqual([
      viewRow({
        user_id: 'alice',
        user_role: 'USER',
        outcome: 'denied',
        details: { filter: { action: 'delete_item' }, first: 3, after: null, fields: ['Query.auditLogs'], count: 1 },
        request_id: response.requestId,
        operation_name: 'ReadTrail',
      }),
    ]);
  });

  it('an anonymous caller is UNAUTHENTICATED and leaves a denied row without a user', async () => {
    const id = seededIds[0]!.toString();
    const response = await tracedRequest(server, 'query ReadEntry($id: ID!) { auditLog(id: $id) { id } }', {
      operationName: 'ReadEntry',
      variables: { id: auditLogId(id) },
    });

    expectFieldError(response, { ...AUTHENTICATION_REQUIRED, path: 'auditLog', data: { auditLog: null } });
    expect(await response.rows()).toEqual([
      viewRow({
        user_id: null,
        user_role: null,
        outcome: 'denied',
        resource_id: id,
        details: { id: auditLogId(id), fields: ['Query.auditLog'], count: 1 },
        request_id: response.requestId,
        operation_name: 'ReadEntry',
      }),
    ]);
  });
});

describe('the table is append-only', () => {
  /** Every row, in full, as one comparable value. */
  const fingerprint = async () =>
    (await server.sql<{ rows: string; digest: string }[]>`
      select count(*)::text as rows, md5(string_agg(t::text, '|' order by id)) as digest from audit_logs t`)[0];

  it.each(["update audit_logs set action = 'x'", 'delete from audit_logs', 'truncate audit_logs'])(
    '%s fails and changes nothing',
    async (statement) => {
      const before = await fingerprint();
      expect(Number(before!.rows)).toBeGreaterThan(SEED_ROWS);

      await expect(server.sql.unsafe(statement)).rejects.toMatchObject({
        code: '42501',
        message: expect.stringContaining('audit_logs is append-only'),
      });

      expect(await fingerprint()).toEqual(before);
    },
  );
});
