import { base64url } from '../support/encoding';
import { expectInvalidInput, expectRequestError } from '../support/errors';
import { CREATE_ITEM, DELETE_ITEM, ITEM_QUERY, UPDATE_ITEM, itemId, rawIdOf } from '../support/items';
import { alice, startTestServer, type GraphQLResponse, type TestServer } from '../support/test-server';

// Input rules as a client meets them: each broken rule is BAD_USER_INPUT naming the offending
// argument in `extensions.field`, and nothing is written. Malformed operations are rejected by
// GraphQL itself; none of it may surface as INTERNAL_SERVER_ERROR.

const ITEMS = 'query($first: Int, $after: String) { items(first: $first, after: $after) { nodes { id } } }';

const EMOJI = '😀'; // one code point, two UTF-16 units
const repeat = (text: string, times: number) => text.repeat(times);

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());
beforeEach(async () => {
  await server.sql`delete from items`;
});

/** Every row, to compare before and after a rejected request. */
async function allRows() {
  return [...(await server.sql`select * from items order by id`)];
}

/** Inserts one of alice's items directly and returns its id. */
async function seedItem(title = 'original', description: string | null = 'original description'): Promise<string> {
  const [row] = await server.sql`insert into items (owner_id, title, description) values ('alice', ${title}, ${description}) returning id`;
  return itemId(row!.id);
}

/** Runs `request` and checks it is BAD_USER_INPUT on `field` and left the table exactly as it was. */
async function expectRejectedWithoutWrite(request: () => Promise<GraphQLResponse>, path: string, field: string): Promise<void> {
  const before = await allRows();
  expectInvalidInput(await request(), { path, field, data: null });
  expect(await allRows()).toEqual(before);
}

/** One of alice's items as the API returns it, with `fields` as given. */
const aliceItem = (fields: Record<string, unknown>) => ({
  id: expect.any(String),
  ownerId: 'alice',
  createdAt: expect.any(String),
  updatedAt: expect.any(String),
  ...fields,
});

const create = (input: Record<string, unknown>) => server.graphql(CREATE_ITEM, { as: alice, variables: { input } });
const update = (id: string, input: Record<string, unknown>) => server.graphql(UPDATE_ITEM, { as: alice, variables: { id, input } });

describe('createItem', () => {
  it.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['only tabs and newlines', '\t\n'],
    ['of 201 characters', repeat('a', 201)],
    ['of 201 emoji', repeat(EMOJI, 201)],
    ['with a NUL character', 'a\u0000b'],
  ])('rejects a title: %s', async (_label, title) => {
    await expectRejectedWithoutWrite(() => create({ title }), 'createItem', 'input.title');
    expect(await allRows()).toEqual([]);
  });

  it('accepts a title of exactly 200 characters and stores it unchanged', async () => {
    const title = repeat('t', 200);
    const response = await create({ title });
    expect(response.body).toEqual({ data: { createItem: aliceItem({ title, description: null }) } });
    expect(await allRows()).toEqual([expect.objectContaining({ title, description: null })]);
  });

  it('counts characters, not UTF-16 units: 200 emoji are accepted', async () => {
    const title = repeat(EMOJI, 200);
    expect(title.length).toBe(400);
    const response = await create({ title });
    expect(response.body).toEqual({ data: { createItem: aliceItem({ title, description: null }) } });
    expect(await allRows()).toEqual([expect.objectContaining({ title })]);
  });

  it('accepts a title with surrounding spaces as given', async () => {
    const response = await create({ title: '  padded  ' });
    expect(response.body.data?.createItem.title).toBe('  padded  ');
  });

  it.each([
    ['of 10,001 characters', repeat('d', 10_001)],
    ['of 10,001 emoji', repeat(EMOJI, 10_001)],
    ['with a NUL character', 'line\u0000break'],
  ])('rejects a description: %s', async (_label, description) => {
    await expectRejectedWithoutWrite(() => create({ title: 'ok', description }), 'createItem', 'input.description');
    expect(await allRows()).toEqual([]);
  });

  it('accepts a description of exactly 10,000 characters', async () => {
    const description = repeat('d', 10_000);
    const response = await create({ title: 'long', description });
    expect(response.body).toEqual({ data: { createItem: aliceItem({ title: 'long', description }) } });
    expect(await allRows()).toEqual([expect.objectContaining({ description })]);
  });

  it('accepts an empty description as given', async () => {
    const response = await create({ title: 'x', description: '' });
    expect(response.body.data?.createItem.description).toBe('');
  });

  it('rejects a missing title as a GraphQL input error before running', async () => {
    expectRequestError(await create({ description: 'no title' }), { status: 400, code: 'BAD_USER_INPUT', field: 'input', inOperation: true });
    expect(await allRows()).toEqual([]);
  });
});

describe('updateItem', () => {
  it.each([
    ['a null title', { title: null }, 'input.title'],
    ['a blank title', { title: '  ' }, 'input.title'],
    ['a 201-character title', { title: repeat('a', 201) }, 'input.title'],
    ['an empty input', {}, 'input'],
    ['a 10,001-character description', { description: repeat('d', 10_001) }, 'input.description'],
    ['a description with a NUL character', { description: 'a\u0000b' }, 'input.description'],
    ['a valid title with an oversize description', { title: 'fine', description: repeat('d', 10_001) }, 'input.description'],
    ['a valid description with an empty title', { title: '', description: 'fine' }, 'input.title'],
  ])('rejects %s and changes nothing', async (_label, input, field) => {
    const id = await seedItem();
    await expectRejectedWithoutWrite(() => update(id, input), 'updateItem', field);
  });

  it('accepts a 10,000-character description', async () => {
    const id = await seedItem();
    const description = repeat('d', 10_000);
    const response = await update(id, { description });
    expect(response.body).toEqual({ data: { updateItem: aliceItem({ id, title: 'original', description }) } });
  });

  it.each([['abc'], ['1.5'], ['-1'], ['0'], [''], ['99999999999999999999']])(
    'rejects the id of item "%s" and changes nothing',
    async (badId) => {
      await seedItem();
      await expectRejectedWithoutWrite(() => update(itemId(badId), { title: 'changed' }), 'updateItem', 'id');
    },
  );
});

describe('deleteItem', () => {
  it.each([['abc'], ['1.5'], ['-1'], ['0'], ['1e3'], ['99999999999999999999']])(
    'rejects the id of item "%s" and deletes nothing',
    async (badId) => {
      await seedItem();
      await expectRejectedWithoutWrite(() => server.graphql(DELETE_ITEM, { as: alice, variables: { id: itemId(badId) } }), 'deleteItem', 'id');
    },
  );
});

describe('item(id)', () => {
  it.each([['abc'], ['1.5'], ['-1'], ['0'], [' 1'], ['0x10'], ['99999999999999999999'], ['9223372036854775808']])(
    'rejects the id of item "%s"',
    async (badId) => {
      await seedItem();
      const response = await server.graphql(ITEM_QUERY, { as: alice, variables: { id: itemId(badId) } });
      expectInvalidInput(response, { path: 'item', field: 'id', data: { item: null } });
    },
  );

  it('accepts the largest bigint id (and finds nothing)', async () => {
    const response = await server.graphql(ITEM_QUERY, { as: alice, variables: { id: itemId('9223372036854775807') } });
    expect(response.body).toEqual({ data: { item: null } });
  });

  it('refuses an integer literal as an ID: ids are global, never the row id', async () => {
    const id = await seedItem();
    const response = await server.graphql(`{ item(id: ${rawIdOf(id)}) { id title } }`, { as: alice });
    expectInvalidInput(response, { path: 'item', field: 'id', data: { item: null } });
  });
});

describe('items', () => {
  it.each([
    ['0', 0],
    ['-1', -1],
    ['101', 101],
    ['null', null],
  ])('rejects first: %s', async (_label, first) => {
    expectInvalidInput(await server.graphql(ITEMS, { as: alice, variables: { first } }), { path: 'items', field: 'first', data: null });
  });

  it('rejects an explicit null literal for first instead of using the default', async () => {
    const response = await server.graphql('{ items(first: null) { nodes { id } } }', { as: alice });
    expectInvalidInput(response, { path: 'items', field: 'first', data: null });
  });

  it.each([
    ['1', 1],
    ['100', 100],
  ])('accepts first: %s', async (_label, first) => {
    await seedItem();
    const response = await server.graphql(ITEMS, { as: alice, variables: { first } });
    expect(response.body).toEqual({ data: { items: { nodes: [{ id: expect.any(String) }] } } });
  });

  it.each([
    ['garbage', 'garbage'],
    ['characters outside base64url', 'a+b/c=='],
    ['valid base64url that we did not mint', base64url('user:1')],
    ['an item cursor with a non-numeric id', base64url('item:abc')],
    ['an item cursor with id 0', base64url('item:0')],
    ['an item cursor with a negative id', base64url('item:-5')],
    ['an item cursor beyond bigint', base64url('item:9223372036854775808')],
    ['an item’s global id (an id is not a cursor)', itemId(1)],
    ['an overlong string', 'a'.repeat(500)],
    ['an empty string (not the same as no cursor)', ''],
  ])('rejects after: %s', async (_label, after) => {
    await seedItem();
    expectInvalidInput(await server.graphql(ITEMS, { as: alice, variables: { after } }), { path: 'items', field: 'after', data: null });
  });
});

describe('malformed operations', () => {
  it('rejects an unknown field', async () => {
    const response = await server.graphql('{ items { nodes { id secret } } }', { as: alice });
    expectRequestError(response, { status: 400, code: 'GRAPHQL_VALIDATION_FAILED', inOperation: true });
  });

  it('rejects an unknown root field', async () => {
    expectRequestError(await server.graphql('{ users { id } }', { as: alice }), { status: 400, code: 'GRAPHQL_VALIDATION_FAILED', inOperation: true });
  });

  it('rejects an unknown input field and writes nothing', async () => {
    const response = await server.graphql('mutation { createItem(input: {title: "a", ownerId: "bob"}) { id } }', { as: alice });
    expectRequestError(response, { status: 400, code: 'GRAPHQL_VALIDATION_FAILED', inOperation: true });
    expect(await allRows()).toEqual([]);
  });

  it('rejects a literal of the wrong type', async () => {
    const response = await server.graphql('{ items(first: "ten") { nodes { id } } }', { as: alice });
    expectRequestError(response, { status: 400, code: 'GRAPHQL_VALIDATION_FAILED', inOperation: true });
  });

  it.each([
    ['a string for Int', { first: 'ten' }, 'first'],
    ['a float for Int', { first: 1.5 }, 'first'],
    ['an Int beyond 32 bits', { first: 2 ** 31 }, 'first'],
    ['an object for String', { first: 1, after: { cursor: 'x' } }, 'after'],
  ])('rejects a variable with %s', async (_label, variables, field) => {
    expectRequestError(await server.graphql(ITEMS, { as: alice, variables }), { status: 400, code: 'BAD_USER_INPUT', field, inOperation: true });
  });

  it('rejects a float for an ID variable', async () => {
    const response = await server.graphql(ITEM_QUERY, { as: alice, variables: { id: 1.5 } });
    expectRequestError(response, { status: 400, code: 'BAD_USER_INPUT', field: 'id', inOperation: true });
  });

  it('rejects a number for a String input field and writes nothing', async () => {
    expectRequestError(await create({ title: 42 }), { status: 400, code: 'BAD_USER_INPUT', field: 'input.title', inOperation: true });
    expect(await allRows()).toEqual([]);
  });

  it('rejects a missing required variable', async () => {
    expectRequestError(await server.graphql(ITEM_QUERY, { as: alice }), { status: 400, code: 'BAD_USER_INPUT', field: 'id', inOperation: true });
  });

  it('rejects a syntax error', async () => {
    expectRequestError(await server.graphql('{ items { nodes { id }', { as: alice }), { status: 400, code: 'GRAPHQL_PARSE_FAILED', inOperation: true });
  });
});
