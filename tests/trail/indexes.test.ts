import { AuditLogService, type TimeOrder } from '../../src/audit-logs/query/audit-log.service';
import type { AuditLogFilter } from '../../src/audit-logs/query/audit-log.inputs';
import { AuditLogOrder } from '../../src/audit-logs/query/audit-log.order';
import { Role } from '../../src/auth/viewer';
import { connectDatabase, type Database } from '../../src/db/database';
import postgres from 'postgres';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { allowBackdatedRows } from '../support/audit-rows';
import { itemId } from '../support/global-ids';

/*
 * Every `auditLogs` filter must be served by its index on a realistically sized trail, on the
 * first page and on a later page (with the keyset condition): the plan reads the page's rows
 * through the expected index, never sorts a sequential scan of `audit_logs`, and sorts no more
 * than a handful of rows (an index ending in (occurred_at, id), read either way, needs no sort at all).
 *
 * The SQL is the very statement `AuditLogService.list` runs for a page (`pageQuery(...).toSQL()`),
 * with its values bound as parameters. The server sends its searches of the trail unnamed, so each
 * is planned for its values (`Database.searches`, src/db/database.ts), as these EXPLAINs are.
 */

/**
 * ~90 days of trail: enough that the planner prefers each index, and that each filter not about
 * one user, record or request matches hundreds of rows (one `ip`, the fewest, 500), more than
 * MAX_SORTED_ROWS a plan may sort; more rows cost seconds of index upkeep in seeding and prove no
 * other plan.
 * PGlite (WebAssembly) gets a smaller one so the file stays quick.
 */
const ROWS_ON_SERVER = 100_000;
const ROWS_EMBEDDED = 50_000;
const DEFAULT_FIRST = 50;

/**
 * Deterministic pseudo-random rows: thousands of users (~60 rows each) and resource ids (~15 rows
 * each), 10 actions with a skew, outcomes mostly success (3% denied, 1% error), admin_bypass on
 * ~5%, 3 rows per request, time increasing with id (rows are appended as things happen) with a
 * little jitter. The newest tenth is a flood: half its rows denied, half admin bypasses, which a
 * filter for successes (or non-bypasses) read through the time index would have to step over.
 */
function seedSql(rows: number): string {
  // Per user and per resource, as many rows in the small trail as in the large one.
  const users = Math.round(rows / 60);
  const resources = Math.round(rows / 15);
  const flood = Math.round(rows * 0.9);
  return `
    insert into audit_logs (occurred_at, user_id, user_role, action, resource_type, resource_id, owner_ids, outcome,
                            admin_bypass, details, request_id, operation_name, ip, user_agent)
    select timestamptz '2024-01-01 00:00:00+00' + interval '90 days' * (g::float8 / ${rows})
             + abs(hashint8extended(g, 1) % 30000) * interval '1 millisecond',
           case when abs(hashint8extended(g, 2) % 100) < 2 then null
                else 'user-' || abs(hashint8extended(g, 3) % ${users}) end,
           case when abs(hashint8extended(g, 3) % ${users}) < 20 then 'ADMIN' else 'USER' end,
           case when a < 30 then 'view_item' when a < 45 then 'update_item' when a < 57 then 'create_item'
                when a < 67 then 'admin_view_item' when a < 75 then 'delete_item' when a < 83 then 'authenticate'
                when a < 88 then 'view_audit_logs' when a < 93 then 'export_items' when a < 97 then 'login'
                else 'logout' end,
           case when r < 70 then 'item' when r < 90 then 'document' when r < 98 then 'user' end,
           case when r < 98 then abs(hashint8extended(g, 5) % ${resources})::text end,
           case when r >= 98 then '{}'
                when a >= 57 and a < 67 then array['user-' || abs(hashint8extended(g, 9) % ${users}), 'user-' || abs(hashint8extended(g, 10) % ${users})]
                else array['user-' || abs(hashint8extended(g, 9) % ${users})] end,
           case when o < 3 or (g > ${flood} and o >= 50) then 'denied' when o < 4 then 'error' else 'success' end,
           abs(hashint8extended(g, 7) % 100) < case when g > ${flood} then 50 else 5 end,
           jsonb_build_object('n', g),
           'req-' || (g / 3),
           'Op' || (g % 40),
           '10.' || (g % 200) || '.0.1',
           'seed-agent'
    from (select g, abs(hashint8extended(g, 4) % 100) as a, abs(hashint8extended(g, 6) % 100) as r,
                 abs(hashint8extended(g, 8) % 100) as o
          from generate_series(1, ${rows}) g) s`;
}

// ---------------------------------------------------------------------------------------------
// Plans.
// ---------------------------------------------------------------------------------------------

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Alias?: string;
  'Index Name'?: string;
  'Parent Relationship'?: string;
  'Plan Rows'?: number;
  Plans?: PlanNode[];
}

const children = (node: PlanNode): PlanNode[] => node.Plans ?? [];
const descendants = (node: PlanNode): PlanNode[] => [node, ...children(node).flatMap(descendants)];

/** The plan as indented text, for failure messages and the report. */
function describePlan(node: PlanNode, depth = 0): string {
  const on = node['Relation Name'] ? ` on ${node['Relation Name']} ${node.Alias}` : '';
  const using = node['Index Name'] ? ` using ${node['Index Name']}` : '';
  const role = node['Parent Relationship'] === 'InitPlan' ? ' (InitPlan)' : '';
  return [`${'  '.repeat(depth)}${node['Node Type']}${using}${on}${role}`, ...children(node).map((child) => describePlan(child, depth + 1))].join('\n');
}

const isSort = (node: PlanNode) => node['Node Type'] === 'Sort' || node['Node Type'] === 'Incremental Sort';
const isSeqScanOfTrail = (node: PlanNode) => node['Node Type'] === 'Seq Scan' && node['Relation Name'] === 'audit_logs';

/**
 * How the plan reaches the rows of the page: the scans of `audit_logs` but the keyset lookups
 * (InitPlans reading the cursor's row), as `<node type> using <index>`, in plan order.
 */
function pageAccess(plan: PlanNode): string[] {
  const isKeysetLookup = (node: PlanNode) => node['Parent Relationship'] === 'InitPlan';
  const withoutKeyset = (node: PlanNode): PlanNode[] => (isKeysetLookup(node) ? [] : [node, ...children(node).flatMap(withoutKeyset)]);
  return withoutKeyset(plan)
    .filter((node) => node['Relation Name'] === 'audit_logs')
    .map((node) => {
      const indexes = node['Node Type'] === 'Bitmap Heap Scan' ? withoutKeyset(node).map((child) => child['Index Name']).filter(Boolean) : [node['Index Name']];
      return `${node['Node Type']} using ${indexes.join(' + ') || '(no index)'}`;
    });
}

/**
 * A page may sort what its index found only when that is a handful of rows (one user's, one
 * request's), at most the largest page size: an index ending in (occurred_at, id) returns
 * rows in either order unsorted, so that a page costs the same however many rows match.
 */
const MAX_SORTED_ROWS = 200;

/** What is wrong with `plan` for a filter `index` should serve; empty when nothing is. */
function planProblems(plan: PlanNode, { index, alternative, listed, ranges = 1 }: FilterCase): string[] {
  const problems: string[] = [];
  const access = pageAccess(plan);
  const allowed = [index, ...(alternative ? [alternative] : [])];
  const viaIndex = ['Index Scan', 'Index Only Scan', 'Bitmap Heap Scan'].flatMap((type) => allowed.map((name) => `${type} using ${name}`));
  const viaList = listed ? [`Bitmap Heap Scan using ${listed}`] : [];
  // One scan per month the page reaches; with a listed branch, both branches must be there.
  const readsRightly = access.length > 0 && access.every((way) => viaIndex.includes(way) || viaList.includes(way));
  const bothBranches = !listed || (access.some((way) => viaIndex.includes(way)) && access.some((way) => viaList.includes(way)));
  // One range per action: a page of its own per branch (a Limit each), merged under the page's Limit.
  const branchPages = descendants(plan).filter((node) => node['Node Type'] === 'Limit').length - 1;
  if (ranges > 1 && branchPages < ranges) problems.push(`reads ${ranges} actions in ${Math.max(branchPages, 1)} range(s), not one range each`);
  if (!readsRightly || !bothBranches) {
    problems.push(`reads the rows by [${access.join(', ')}], not through ${[...allowed, ...(listed ? [listed] : [])].join(' / ')}`);
  }
  for (const sort of descendants(plan).filter(isSort)) {
    if (descendants(sort).some(isSeqScanOfTrail)) problems.push('sorts a Seq Scan of audit_logs');
    // Rows listing the record are sorted by design: as many as there were queries that showed it.
    if (listed && descendants(sort).some((node) => node['Index Name'] === listed)) continue;
    const sorted = children(sort)[0]?.['Plan Rows'] ?? 0;
    if (sorted > MAX_SORTED_ROWS) problems.push(`sorts ~${sorted} rows (estimated) for one page`);
  }
  return problems.map((problem) => `${problem}:\n${describePlan(plan)}`);
}

// ---------------------------------------------------------------------------------------------

interface FilterCase {
  /** How the case is named in the report. */
  name: string;
  filter: AuditLogFilter;
  index: string;
  /**
   * Another index the planner may rightly prefer: for an action in 15% of rows, walking the
   * newest-first time index and skipping other actions is as sort-free and about as cheap.
   */
  alternative?: string;
  /** The page size asked for; the query fetches one row more to tell whether another page follows. */
  first?: number;
  /** The index of a second, unioned branch of the page, when the filter has one. */
  listed?: string;
  /** How many branches of the page read `index`, one range each (several actions); 1 unless given. */
  ranges?: number;
}

const FROM = new Date('2024-02-10T00:00:00Z');
const TO = new Date('2024-02-17T00:00:00Z');

const CASES: FilterCase[] = [
  { name: '(none)', filter: {}, index: 'audit_logs_occurred_at_idx' },
  // One user or one resource has tens of rows, one request 3: pages small enough to have a second.
  { name: 'userId', filter: { userId: 'user-42' }, index: 'audit_logs_user_idx', first: 20 },
  { name: 'action', filter: { action: 'update_item' }, index: 'audit_logs_action_idx', alternative: 'audit_logs_occurred_at_idx' },
  { name: 'action (rare)', filter: { action: 'logout' }, index: 'audit_logs_action_idx' },
  // One range per action, merged: never every match sorted (for a 4% action the planner may walk the time index).
  { name: 'actions', filter: { actions: ['logout', 'login'] }, index: 'audit_logs_action_idx', alternative: 'audit_logs_occurred_at_idx', ranges: 2 },
  // README "UserChanges": one range of the user's rows per action, none stepped over.
  {
    name: 'userId + actions',
    filter: { userId: 'user-42', actions: ['create_item', 'update_item', 'delete_item'] },
    index: 'audit_logs_user_action_idx',
    ranges: 3,
    first: 5,
  },
  { name: 'userId + action', filter: { userId: 'user-42', action: 'view_item' }, index: 'audit_logs_user_action_idx', first: 5 },
  {
    name: 'resourceType + resourceId',
    filter: { resourceType: 'item', resourceId: itemId(123) },
    index: 'audit_logs_resource_idx',
    // Rows that list the record among others are found through this one, in a branch of their own.
    listed: 'audit_logs_resource_ids_idx',
    first: 5,
  },
  { name: 'outcome: DENIED', filter: { outcome: 'denied' }, index: 'audit_logs_outcome_denied_idx' },
  // Most rows succeed: the time index, keeping most of what it reads (stepping over the newest
  // tenth's flood of denials, a page's worth at a time).
  { name: 'outcome: SUCCESS', filter: { outcome: 'success' }, index: 'audit_logs_occurred_at_idx' },
  { name: 'adminBypass: true', filter: { adminBypass: true }, index: 'audit_logs_admin_bypass_idx' },
  { name: 'adminBypass: false', filter: { adminBypass: false }, index: 'audit_logs_occurred_at_idx' },
  { name: 'outcome: DENIED + from + to (README Denials)', filter: { outcome: 'denied', from: FROM, to: TO }, index: 'audit_logs_outcome_denied_idx' },
  { name: 'adminBypass: true + from (README AdminBypasses)', filter: { adminBypass: true, from: FROM }, index: 'audit_logs_admin_bypass_idx' },
  { name: 'resourceId without resourceType', filter: { resourceId: itemId(123) }, index: 'audit_logs_resource_idx', listed: 'audit_logs_resource_ids_idx', first: 5 },
  { name: 'requestId', filter: { requestId: 'req-1234' }, index: 'audit_logs_request_idx', first: 2 },
  { name: 'userRole: ADMIN', filter: { userRole: Role.ADMIN }, index: 'audit_logs_role_admin_idx' },
  { name: 'userRole: USER', filter: { userRole: Role.USER }, index: 'audit_logs_occurred_at_idx' },
  { name: 'ip', filter: { ip: '10.42.0.1' }, index: 'audit_logs_ip_idx' },
  { name: 'operationName', filter: { operationName: 'Op7' }, index: 'audit_logs_operation_idx' },
  // Rows naming the owner alone from its btree; rows naming several owners found by GIN, then sorted.
  { name: 'ownerId', filter: { ownerId: 'user-42' }, index: 'audit_logs_owner_idx', listed: 'audit_logs_owner_ids_idx', first: 20 },
  // The documented plan: no index of its own; the time index, stepping over the excluded actions.
  { name: 'excludeActions', filter: { excludeActions: ['view_item', 'update_item'] }, index: 'audit_logs_occurred_at_idx' },
  { name: 'from + to', filter: { from: FROM, to: TO }, index: 'audit_logs_occurred_at_idx' },
];

/** The statement `AuditLogService.list` runs for the page in `order`; after the row `afterId` when given. */
function pageSql({ filter, first = DEFAULT_FIRST }: FilterCase, order: TimeOrder, afterId?: bigint): { text: string; values: unknown[] } {
  const query = new AuditLogService(database.db).pageQuery(filter, { first, afterId }, order).toSQL();
  return { text: query.sql, values: query.params };
}

// Plans are a matter of the schema and the rows, so no server runs: its sealer would be hashing
// the seeded rows all through the file, slowing the seeding and the EXPLAINs.
let testDatabase: TestDatabase;
let sql: postgres.Sql;
let database: Database;
let seeded: number;

beforeAll(async () => {
  testDatabase = await createTestDatabase({ migrated: true });
  sql = postgres(testDatabase.url, { max: 1, onnotice: () => {} });
  seeded = testDatabase.embedded ? ROWS_EMBEDDED : ROWS_ON_SERVER;
  // Only the seeded months: each further one is a table with every index of the trail to create.
  await allowBackdatedRows(sql, '2024-01-01', '2024-04-01');
  await sql.unsafe(seedSql(seeded));
  await sql.unsafe('analyze audit_logs');
  const parts = await sql<{ part: string; whole: string }[]>`
    select c.relname as part, p.relname as whole from pg_inherits i
    join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
    where p.relname like 'audit_logs%'`;
  partitionOf = new Map(parts.map(({ part, whole }) => [part, whole]));
  const empty = await sql<{ name: string }[]>`
    select relname as name from pg_class where relispartition and relkind = 'r' and reltuples = 0`;
  emptyMonths = new Set(empty.map(({ name }) => name));
  database = connectDatabase(testDatabase.url, { maxConnections: 1 });
}, 300_000);
afterAll(async () => {
  await database?.close();
  await sql?.end();
  await testDatabase?.drop();
});

/** The id of the last row of the first page: the cursor a client sends for page two. */
async function secondPageCursor(testCase: FilterCase, order: TimeOrder): Promise<bigint> {
  const { text, values } = pageSql(testCase, order);
  const rows = await sql.unsafe<{ id: string }[]>(text, values as never[]);
  const first = testCase.first ?? DEFAULT_FIRST;
  expect(rows).toHaveLength(first + 1); // a second page exists, so "a later page" is real
  return BigInt(rows[first - 1]!.id);
}

/** Each month's tables and indexes, by name, with the name of the `audit_logs` table or index they belong to. */
let partitionOf: Map<string, string>;

async function explain(text: string, values: unknown[]): Promise<PlanNode> {
  const [row] = await sql.unsafe(`explain (format json) ${text}`, values as never[]);
  const output = row!['QUERY PLAN'];
  return asTrail((typeof output === 'string' ? JSON.parse(output) : output)[0].Plan as PlanNode);
}

/** Months without rows (those between the seeded history and now, and ahead): any scan of them costs nothing. */
let emptyMonths: Set<string>;

/**
 * The plan with each month's table and index named as the `audit_logs` table or index it is part
 * of, and without the scans of empty months.
 */
function asTrail(node: PlanNode): PlanNode {
  const parent = (name: string | undefined) => (name === undefined ? undefined : (partitionOf.get(name) ?? name));
  const scansEmptyMonth = (child: PlanNode) => child['Relation Name'] !== undefined && emptyMonths.has(child['Relation Name']);
  return {
    ...node,
    'Relation Name': parent(node['Relation Name']),
    'Index Name': parent(node['Index Name']),
    Plans: node.Plans?.filter((child) => !scansEmptyMonth(child)).map(asTrail),
  };
}

it('has the seeded trail', async () => {
  const [{ count }] = await sql<{ count: string }[]>`select count(*)::text as count from audit_logs`;
  expect(Number(count)).toBe(seeded);
});

// Each index is read backwards for newest first and forwards for oldest first.
describe.each([AuditLogOrder.NEWEST_FIRST, AuditLogOrder.OLDEST_FIRST] as const)('%s', (order) => {
  describe.each(CASES)('filter $name', (testCase) => {
    it(`first page reads ${testCase.index}`, async () => {
      const { text, values } = pageSql(testCase, order);
      expect(planProblems(await explain(text, values), testCase)).toEqual([]);
    });

    it(`later page (keyset) reads ${testCase.index}`, async () => {
      const { text, values } = pageSql(testCase, order, await secondPageCursor(testCase, order));
      expect(planProblems(await explain(text, values), testCase)).toEqual([]);
    });
  });
});
