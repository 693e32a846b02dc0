import type { TokenClaims } from '../../src/auth/token-signer';
import { walkConnection } from '../support/connection-walk';
import { dataOf } from '../support/errors';
import { itemId, rawIdOf } from '../support/items';
import { admin, alice, bob, startTestServer, type TestServer } from '../support/test-server';

// Keyset pagination over items: walking `items(first, after)` page by page visits every item
// exactly once in id order, even while new items are being added, and the connection fields
// (edges, nodes, pageInfo, totalCount) agree with each other.

const ALICE_SEEDED = 56;
const BOB_SEEDED = 14;

const PAGE = `query($first: Int, $after: String, $ownerId: String) {
  items(first: $first, after: $after, ownerId: $ownerId) {
    edges { cursor node { id ownerId } }
    nodes { id ownerId }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}`;

interface Node {
  id: string;
  ownerId: string;
}

interface Connection {
  edges: { cursor: string; node: Node }[];
  nodes: Node[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
}

interface PageArgs {
  first?: number;
  after?: string | null;
  ownerId?: string;
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());
beforeEach(async () => {
  await seed();
});

/** Replaces all rows with 56 items for alice and 14 for bob, every fifth id being bob's. */
async function seed(): Promise<void> {
  await server.sql`delete from items`;
  await server.sql`
    insert into items (owner_id, title)
    select case when g % 5 = 0 then 'bob' else 'alice' end, 'seed ' || g
    from generate_series(1, ${ALICE_SEEDED + BOB_SEEDED}::int) as g
    order by g`;
}

/** Ids in the database, ascending; only `owner`'s when given. */
async function idsInDb(owner?: string): Promise<string[]> {
  const rows = owner
    ? await server.sql`select id from items where owner_id = ${owner} order by id`
    : await server.sql`select id from items order by id`;
  return rows.map((row) => itemId(row.id));
}

/** One page, checked to be free of errors and internally consistent. */
async function page(as: TokenClaims, args: PageArgs = {}): Promise<Connection> {
  const connection = dataOf(await server.graphql<{ items: Connection }>(PAGE, { as, variables: { ...args } })).items;
  expect(connection.nodes).toEqual(connection.edges.map((edge) => edge.node));
  expect(connection.pageInfo.startCursor).toBe(connection.edges[0]?.cursor ?? null);
  expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1)?.cursor ?? null);
  // Pages only go forward; the Relay specification lets such a connection answer false.
  expect(connection.pageInfo.hasPreviousPage).toBe(false);
  return connection;
}

/**
 * Every page of `args`, in order, each checked by {@link walkConnection} (full pages while
 * `hasNextPage`, no id twice); `betweenPages` runs after each page that has a successor.
 */
async function walk(as: TokenClaims, args: PageArgs & { first: number }, betweenPages?: () => Promise<void>): Promise<Connection[]> {
  const { pages } = await walkConnection(args.first, (after) => page(as, { ...args, after }), betweenPages);
  return pages;
}

const idsOf = (pages: Connection[]) => pages.flatMap((current) => current.nodes.map((node) => node.id));

async function createItemFor(as: TokenClaims, title: string): Promise<string> {
  const response = await server.graphql('mutation($title: String!) { createItem(input: {title: $title}) { id } }', {
    as,
    variables: { title },
  });
  return dataOf(response).createItem.id;
}

it('walks every item exactly once, in id order, while new items are added; they come last', async () => {
  const existing = await idsInDb('alice');
  expect(existing).toHaveLength(ALICE_SEEDED);
  const added: string[] = [];
  const totals: number[] = [];

  const pages = await walk(alice, { first: 10 }, async () => {
    added.push(await createItemFor(alice, `added during walk ${added.length}`));
  });

  expect(added.length).toBeGreaterThan(0);
  expect(idsOf(pages)).toEqual([...existing, ...added]);
  expect(pages.flatMap((current) => current.nodes.map((node) => node.ownerId))).toEqual(idsOf(pages).map(() => 'alice'));
  for (const [index, current] of pages.entries()) {
    const isLast = index === pages.length - 1;
    expect(current.pageInfo.hasNextPage).toBe(!isLast);
    if (!isLast) expect(current.nodes).toHaveLength(10);
    totals.push(current.totalCount);
  }
  // Page n is read after n - 1 items were added, and totalCount counts all of alice's items then.
  expect(totals).toEqual(pages.map((_, index) => ALICE_SEEDED + index));
  expect(await idsInDb('alice')).toEqual([...existing, ...added]);
});

it('continues after a cursor whose item was deleted meanwhile', async () => {
  const all = await idsInDb('alice');
  const first = await page(alice, { first: 10 });
  await server.sql`delete from items where id = ${rawIdOf(first.nodes.at(-1)!.id)}`;
  const next = await page(alice, { first: 10, after: first.pageInfo.endCursor });
  expect(next.nodes.map((node) => node.id)).toEqual(all.slice(10, 20));
});

it('makes each edge cursor continue right after that edge', async () => {
  const all = await idsInDb('alice');
  const { edges } = await page(alice, { first: 10 });
  for (const [index, edge] of edges.entries()) {
    const after = await page(alice, { first: 3, after: edge.cursor });
    expect(after.nodes.map((node) => node.id)).toEqual(all.slice(index + 1, index + 4));
  }
});

it('ends with hasNextPage false on a full last page, and an empty page after it has endCursor null', async () => {
  const pages = await walk(bob, { first: 7 });
  expect(pages.map((current) => [current.nodes.length, current.pageInfo.hasNextPage])).toEqual([
    [7, true],
    [7, false],
  ]);
  const beyond = await page(bob, { first: 7, after: pages[1]!.pageInfo.endCursor });
  expect(beyond).toEqual({ edges: [], nodes: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null }, totalCount: BOB_SEEDED });
});

it('answers a caller without items with an empty page', async () => {
  const empty = await page({ sub: 'nobody' });
  expect(empty).toEqual({ edges: [], nodes: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null }, totalCount: 0 });
});

it.each([
  [BOB_SEEDED - 1, true],
  [BOB_SEEDED, false],
  [BOB_SEEDED + 1, false],
])('sets hasNextPage exactly: first %i of 14 → %s', async (first, hasNextPage) => {
  const result = await page(bob, { first });
  expect(result.nodes).toHaveLength(Math.min(first, BOB_SEEDED));
  expect(result.pageInfo.hasNextPage).toBe(hasNextPage);
});

it('returns 20 items when first is not given', async () => {
  const all = await idsInDb('alice');
  const result = await page(alice);
  expect(result.nodes.map((node) => node.id)).toEqual(all.slice(0, 20));
  expect(result.pageInfo.hasNextPage).toBe(true);
});

it('counts every matching item in totalCount, not only the page or what follows the cursor', async () => {
  const first = await page(alice, { first: 5 });
  expect(first.totalCount).toBe(ALICE_SEEDED);
  expect((await page(alice, { first: 5, after: first.pageInfo.endCursor })).totalCount).toBe(ALICE_SEEDED);
  expect((await page(bob, { first: 1 })).totalCount).toBe(BOB_SEEDED);
  expect((await page(admin, { first: 1 })).totalCount).toBe(ALICE_SEEDED + BOB_SEEDED);
  expect((await page(admin, { first: 1, ownerId: 'bob' })).totalCount).toBe(BOB_SEEDED);
});

it('answers a query that does not select totalCount', async () => {
  const all = await idsInDb('alice');
  const response = await server.graphql('{ items(first: 2) { nodes { id } pageInfo { hasNextPage } } }', { as: alice });
  expect(response.body).toEqual({ data: { items: { nodes: [{ id: all[0] }, { id: all[1] }], pageInfo: { hasNextPage: true } } } });
});

it("walks both owners' items in id order for the admin", async () => {
  const pages = await walk(admin, { first: 7 });
  expect(idsOf(pages)).toEqual(await idsInDb());
  expect(idsOf(pages)).toHaveLength(ALICE_SEEDED + BOB_SEEDED);
  expect(new Set(pages.flatMap((current) => current.nodes.map((node) => node.ownerId)))).toEqual(new Set(['alice', 'bob']));
  expect(pages.map((current) => current.totalCount)).toEqual(pages.map(() => ALICE_SEEDED + BOB_SEEDED));
});

it("walks one owner's items when the admin narrows with ownerId", async () => {
  const pages = await walk(admin, { first: 10, ownerId: 'bob' });
  expect(idsOf(pages)).toEqual(await idsInDb('bob'));
});
