import { SignJWT } from 'jose';
import type { TokenClaims } from '../../src/auth/token-signer';
import { AUTHENTICATION_REQUIRED, dataOf, expectFieldError, expectRequestError } from '../support/errors';
import { CREATE_ITEM, DELETE_ITEM, ITEM_NOT_FOUND, ITEM_QUERY, UPDATE_ITEM, itemId, rawIdOf } from '../support/items';
import { admin, alice, bob, startTestServer, TEST_JWT_SECRET, type GraphQLResponse, type TestServer } from '../support/test-server';

// Who sees and changes what. A user reaches only their own items; someone else's item behaves
// exactly like one that does not exist. An admin reaches every item. Anonymous callers reach none.

/** Claims to mint a token for, a ready-made token, or nobody. */
type Caller = TokenClaims | string | undefined;
const anonymous: Caller = undefined;

const ITEMS = `query($ownerId: String) { items(first: 100, ownerId: $ownerId) { nodes { id ownerId } totalCount } }`;

interface Seeded {
  alice: string[];
  bob: string[];
  /** An id that no row has. */
  missing: string;
}

let server: TestServer;
let seeded: Seeded;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());
beforeEach(async () => {
  seeded = await seed();
});

/** Replaces all rows with two items for alice and two for bob, interleaved by id. */
async function seed(): Promise<Seeded> {
  await server.sql`delete from items`;
  const rows = await server.sql`
    insert into items (owner_id, title, description)
    values ('alice', 'alice 1', 'first of alice'), ('bob', 'bob 1', null), ('alice', 'alice 2', null), ('bob', 'bob 2', 'second of bob')
    returning id, owner_id`;
  const idsOf = (owner: string) => rows.filter((row) => row.owner_id === owner).map((row) => itemId(row.id));
  return { alice: idsOf('alice'), bob: idsOf('bob'), missing: itemId(BigInt(rows.at(-1)!.id) + 1000n) };
}

/** The row as stored, or undefined once it is gone. */
async function row(id: string) {
  const [found] = await server.sql`select * from items where id = ${rawIdOf(id)}`;
  return found;
}

/** Item ids as a client would see them, sorted numerically. */
async function allIds(): Promise<string[]> {
  return (await server.sql`select id from items order by id`).map((found) => itemId(found.id));
}

const getItem = (as: Caller, id: string) => server.graphql(ITEM_QUERY, { as, variables: { id } });
const listItems = (as: Caller, ownerId?: string) => server.graphql(ITEMS, { as, variables: { ownerId } });
const createItem = (as: Caller, input: Record<string, unknown>) => server.graphql(CREATE_ITEM, { as, variables: { input } });
const updateItem = (as: Caller, id: string, input: Record<string, unknown>) => server.graphql(UPDATE_ITEM, { as, variables: { id, input } });
const deleteItem = (as: Caller, id: string) => server.graphql(DELETE_ITEM, { as, variables: { id } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The ids `items` returned, after checking that totalCount counts exactly the listed set. */
function listedIds(response: GraphQLResponse): string[] {
  const { nodes, totalCount } = dataOf(response).items as { nodes: { id: string }[]; totalCount: number };
  expect(totalCount).toBe(nodes.length);
  return nodes.map((node) => node.id);
}

describe('me', () => {
  it.each([
    ['alice', alice, { id: 'alice', role: 'USER' }],
    ['bob', bob, { id: 'bob', role: 'USER' }],
    ['the admin', admin, { id: 'root', role: 'ADMIN' }],
  ])('tells %s who they are', async (_label, as, me) => {
    expect((await server.graphql('{ me { id: userId role } }', { as })).body).toEqual({ data: { me } });
  });

  it('is UNAUTHENTICATED for anonymous callers', async () => {
    expectFieldError(await server.graphql('{ me { id: userId role } }'), { ...AUTHENTICATION_REQUIRED, path: 'me', data: null });
  });
});

describe('item(id)', () => {
  it('returns an owner their own item with every field', async () => {
    const id = seeded.alice[0]!;
    const stored = await row(id);
    const response = await getItem(alice, id);
    expect(response.body).toEqual({
      data: {
        item: {
          id,
          title: 'alice 1',
          description: 'first of alice',
          ownerId: 'alice',
          createdAt: stored!.created_at.toISOString(),
          updatedAt: stored!.updated_at.toISOString(),
        },
      },
    });
  });

  it("returns null, without an error, for another user's item", async () => {
    expect((await getItem(bob, seeded.alice[0]!)).body).toEqual({ data: { item: null } });
    expect((await getItem(alice, seeded.bob[1]!)).body).toEqual({ data: { item: null } });
  });

  it("answers another user's item exactly like an id that does not exist", async () => {
    const foreign = await getItem(bob, seeded.alice[0]!);
    const missing = await getItem(bob, seeded.missing);
    expect(foreign.status).toBe(missing.status);
    expect(foreign.body).toEqual(missing.body);
  });

  it("returns everyone's items to the admin", async () => {
    for (const [owner, ids] of [['alice', seeded.alice], ['bob', seeded.bob]] as const) {
      for (const id of ids) {
        expect((await getItem(admin, id)).body.data.item).toEqual(expect.objectContaining({ id, ownerId: owner }));
      }
    }
  });

  it('is UNAUTHENTICATED for anonymous callers', async () => {
    expectFieldError(await getItem(anonymous, seeded.alice[0]!), { ...AUTHENTICATION_REQUIRED, path: 'item', data: { item: null } });
  });
});

describe('items', () => {
  it("lists only the caller's own items, with totalCount of that set", async () => {
    expect(listedIds(await listItems(alice))).toEqual(seeded.alice);
    expect(listedIds(await listItems(bob))).toEqual(seeded.bob);
  });

  it('lists nothing for a user who owns nothing', async () => {
    expect((await listItems({ sub: 'carol' })).body).toEqual({ data: { items: { nodes: [], totalCount: 0 } } });
  });

  it("cannot be widened to another user's items with ownerId", async () => {
    expect((await listItems(bob, 'alice')).body).toEqual({ data: { items: { nodes: [], totalCount: 0 } } });
    expect((await listItems(alice, 'bob')).body).toEqual({ data: { items: { nodes: [], totalCount: 0 } } });
  });

  it("accepts the caller's own id as ownerId", async () => {
    expect(listedIds(await listItems(alice, 'alice'))).toEqual(seeded.alice);
  });

  it('lists every item for the admin, in id order', async () => {
    expect(listedIds(await listItems(admin))).toEqual(await allIds());
    expect(listedIds(await listItems(admin))).toHaveLength(4);
  });

  it('is narrowed to one owner by ownerId for the admin', async () => {
    expect(listedIds(await listItems(admin, 'alice'))).toEqual(seeded.alice);
    expect(listedIds(await listItems(admin, 'bob'))).toEqual(seeded.bob);
    expect(listedIds(await listItems(admin, 'root'))).toEqual([]);
    // An empty owner id names nobody; it must not silently drop the filter.
    expect(listedIds(await listItems(admin, ''))).toEqual([]);
  });

  it('is UNAUTHENTICATED for anonymous callers, with or without ownerId', async () => {
    expectFieldError(await listItems(anonymous), { ...AUTHENTICATION_REQUIRED, path: 'items', data: null });
    expectFieldError(await listItems(anonymous, 'alice'), { ...AUTHENTICATION_REQUIRED, path: 'items', data: null });
  });
});

describe('createItem', () => {
  it('creates the item for the caller', async () => {
    const response = await createItem(bob, { title: 'new', description: 'desc' });
    const created = response.body.data.createItem;
    expect(created).toEqual({
      id: expect.any(String),
      title: 'new',
      description: 'desc',
      ownerId: 'bob',
      createdAt: expect.any(String),
      updatedAt: created.createdAt,
    });
    expect(await row(created.id)).toEqual(expect.objectContaining({ owner_id: 'bob', title: 'new', description: 'desc' }));
    expect(listedIds(await listItems(bob))).toEqual([...seeded.bob, created.id]);
    expect(listedIds(await listItems(alice))).toEqual(seeded.alice);
  });

  it('makes the admin the owner of what the admin creates', async () => {
    const created = (await createItem(admin, { title: 'admin note' })).body.data.createItem;
    expect(created.ownerId).toBe('root');
    expect((await row(created.id))!.owner_id).toBe('root');
  });

  it('takes the owner verbatim from the token subject, whatever other claims it carries', async () => {
    const sub = 'auth0|Alice-42';
    const token = await new SignJWT({ role: 'admin', ownerId: 'bob', owner_id: 'bob', uid: 'bob' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const created = (await createItem(token, { title: 'mine' })).body.data.createItem;
    expect(created.ownerId).toBe(sub);
    expect((await row(created.id))!.owner_id).toBe(sub);
  });

  it('refuses an ownerId in the input and writes nothing', async () => {
    const before = await allIds();
    const response = await createItem(alice, { title: 'sneaky', ownerId: 'bob' });
    expectRequestError(response, { status: 400, code: 'BAD_USER_INPUT', field: 'input', inOperation: true });
    expect(await allIds()).toEqual(before);
  });

  it('is UNAUTHENTICATED for anonymous callers and writes nothing', async () => {
    const before = await allIds();
    expectFieldError(await createItem(anonymous, { title: 'x' }), { ...AUTHENTICATION_REQUIRED, path: 'createItem', data: null });
    expect(await allIds()).toEqual(before);
  });
});

describe('updateItem', () => {
  it('lets an owner change their item; updatedAt moves forward, createdAt stays', async () => {
    const id = seeded.alice[0]!;
    const before = (await row(id))!;
    await sleep(5); // timestamps travel with millisecond precision
    const response = await updateItem(alice, id, { title: 'renamed', description: null });
    const updated = response.body.data.updateItem;
    expect(updated).toEqual({
      id,
      title: 'renamed',
      description: null,
      ownerId: 'alice',
      createdAt: before.created_at.toISOString(),
      updatedAt: expect.any(String),
    });
    expect(new Date(updated.updatedAt).getTime()).toBeGreaterThan(before.updated_at.getTime());
    const after = (await row(id))!;
    expect(after).toEqual({ ...before, title: 'renamed', description: null, updated_at: after.updated_at });
    expect(after.updated_at.toISOString()).toBe(updated.updatedAt);
  });

  it('changes only the fields given', async () => {
    const id = seeded.alice[0]!;
    const response = await updateItem(alice, id, { title: 'only the title' });
    expect(response.body.data.updateItem).toEqual(expect.objectContaining({ title: 'only the title', description: 'first of alice' }));
    const onlyDescription = await updateItem(alice, id, { description: 'only the description' });
    expect(onlyDescription.body.data.updateItem).toEqual(
      expect.objectContaining({ title: 'only the title', description: 'only the description' }),
    );
  });

  it("gives NOT_FOUND for another user's item and leaves the row unchanged", async () => {
    const id = seeded.alice[0]!;
    const before = await row(id);
    expectFieldError(await updateItem(bob, id, { title: 'hijacked' }), { path: 'updateItem', ...ITEM_NOT_FOUND, data: null });
    expect(await row(id)).toEqual(before);
  });

  it("answers another user's item exactly like an id that does not exist", async () => {
    const foreign = await updateItem(bob, seeded.alice[0]!, { title: 'x' });
    const missing = await updateItem(bob, seeded.missing, { title: 'x' });
    expect(foreign.status).toBe(missing.status);
    expect(foreign.body).toEqual(missing.body);
    expectFieldError(foreign, { path: 'updateItem', ...ITEM_NOT_FOUND, data: null });
  });

  it("lets the admin change anyone's item without taking it over", async () => {
    const id = seeded.bob[0]!;
    const response = await updateItem(admin, id, { title: 'moderated' });
    expect(response.body.data.updateItem).toEqual(expect.objectContaining({ id, title: 'moderated', ownerId: 'bob' }));
    expect(await row(id)).toEqual(expect.objectContaining({ owner_id: 'bob', title: 'moderated' }));
  });

  it('is UNAUTHENTICATED for anonymous callers and leaves the row unchanged', async () => {
    const id = seeded.alice[0]!;
    const before = await row(id);
    expectFieldError(await updateItem(anonymous, id, { title: 'x' }), { ...AUTHENTICATION_REQUIRED, path: 'updateItem', data: null });
    expect(await row(id)).toEqual(before);
  });
});

describe('deleteItem', () => {
  it('lets an owner delete their item, after which it is gone', async () => {
    const [id, kept] = seeded.alice as [string, string];
    expect((await deleteItem(alice, id)).body).toEqual({ data: { deleteItem: { deletedItemId: id } } });
    expect(await row(id)).toBeUndefined();
    expect((await getItem(alice, id)).body).toEqual({ data: { item: null } });
    expect(listedIds(await listItems(alice))).toEqual([kept]);
  });

  it('gives NOT_FOUND when deleting the same item twice', async () => {
    const id = seeded.alice[0]!;
    await deleteItem(alice, id);
    const again = await deleteItem(alice, id);
    expectFieldError(again, { path: 'deleteItem', ...ITEM_NOT_FOUND, data: null });
  });

  it("gives NOT_FOUND for another user's item and keeps the row", async () => {
    const id = seeded.bob[0]!;
    const before = await row(id);
    expectFieldError(await deleteItem(alice, id), { path: 'deleteItem', ...ITEM_NOT_FOUND, data: null });
    expect(await row(id)).toEqual(before);
  });

  it("answers another user's item exactly like an id that does not exist", async () => {
    const foreign = await deleteItem(alice, seeded.bob[0]!);
    const missing = await deleteItem(alice, seeded.missing);
    expect(foreign.status).toBe(missing.status);
    expect(foreign.body).toEqual(missing.body);
  });

  it("lets the admin delete anyone's item", async () => {
    const id = seeded.alice[1]!;
    expect((await deleteItem(admin, id)).body).toEqual({ data: { deleteItem: { deletedItemId: id } } });
    expect(await row(id)).toBeUndefined();
    expect(listedIds(await listItems(alice))).toEqual([seeded.alice[0]]);
  });

  it('is UNAUTHENTICATED for anonymous callers and keeps the row', async () => {
    const id = seeded.alice[0]!;
    const before = await row(id);
    expectFieldError(await deleteItem(anonymous, id), { ...AUTHENTICATION_REQUIRED, path: 'deleteItem', data: null });
    expect(await row(id)).toEqual(before);
  });
});
