import { alice, startTestServer, type GraphQLResponse, type TestServer } from './support/test-server';

// Input rules as a client meets them: each broken rule is BAD_USER_INPUT naming the offending
// argument in `extensions.field`, and nothing is written. Malformed operations are rejected by
// GraphQL itself; none of it may surface as INTERNAL_SERVER_ERROR.

const ITEM_FIELDS = 'id title description ownerId';
const CREATE = `mutation($input: CreateItemInput!) { createItem(input: $input) { ${ITEM_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateItemInput!) { updateItem(id: $id, input: $input) { ${ITEM_FIELDS} } }`;
const DELETE = 'mutation($id: ID!) { deleteItem(id: $id) }';
const ITEM = `query($id: ID!) { item(id: $id) { ${ITEM_FIELDS} } }`;
const ITEMS = 'query($first: Int, $after: String) { items(first: $first, after: $after) { nodes { id } } }';

const EMOJI = '😀'; // one code point, two UTF-16 units
const repeat = (text: string, times: number) => text.repeat(times);
const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

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
  return String(row!.id);
}

/** Exactly one BAD_USER_INPUT error on `path`, naming `field`, with `data` as given. */
function expectBadInput(response: GraphQLResponse, path: string, field: string, data: unknown): void {
  expect(response.status).toBe(200);
  expect(response.body.data).toEqual(data);
  expect(response.body.errors).toEqual([
    expect.objectContaining({
      message: expect.stringMatching(new RegExp(`^${field.replace('.', '\\.')}: `)),
      path: [path],
      extensions: { code: 'BAD_USER_INPUT', field },
    }),
  ]);
}

/** Runs `request` and checks it is BAD_USER_INPUT on `field` and left the table exactly as it was. */
async function expectRejectedWithoutWrite(request: () => Promise<GraphQLResponse>, path: string, field: string): Promise<void> {
  const before = await allRows();
  expectBadInput(await request(), path, field, null);
  expect(await allRows()).toEqual(before);
}

const create = (input: Record<string, unknown>) => server.graphql(CREATE, { as: alice, variables: { input } });
const update = (id: string, input: Record<string, unknown>) => server.graphql(UPDATE, { as: alice, variables: { id, input } });

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
    expect(response.body).toEqual({ data: { createItem: { id: expect.any(String), title, description: null, ownerId: 'alice' } } });
    expect(await allRows()).toEqual([expect.objectContaining({ title, description: null })]);
  });

  it('counts characters, not UTF-16 units: 200 emoji are accepted', async () => {
    const title = repeat(EMOJI, 200);
    expect(title.length).toBe(400);
    const response = await create({ title });
    expect(response.body).toEqual({ data: { createItem: { id: expect.any(String), title, description: null, ownerId: 'alice' } } });
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
    expect(response.body).toEqual({ data: { createItem: { id: expect.any(String), title: 'long', description, ownerId: 'alice' } } });
    expect(await allRows()).toEqual([expect.objectContaining({ description })]);
  });

  it('accepts an empty description as given', async () => {
    const response = await create({ title: 'x', description: '' });
    expect(response.body.data?.createItem.description).toBe('');
  });

  it('rejects a missing title as a GraphQL input error before running', async () => {
    const response = await create({ description: 'no title' });
    expect(response.status).toBe(400);
    expect(response.body.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
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
    expect(response.body).toEqual({ data: { updateItem: { id, title: 'original', description, ownerId: 'alice' } } });
  });

  it.each([['abc'], ['1.5'], ['-1'], ['0'], [''], ['99999999999999999999']])(
    'rejects the id "%s" and changes nothing',
    async (badId) => {
      await seedItem();
      await expectRejectedWithoutWrite(() => update(badId, { title: 'changed' }), 'updateItem', 'id');
    },
  );
});

describe('deleteItem', () => {
  it.each([['abc'], ['1.5'], ['-1'], ['0'], ['1e3'], ['99999999999999999999']])(
    'rejects the id "%s" and deletes nothing',
    async (badId) => {
      await seedItem();
      await expectRejectedWithoutWrite(() => server.graphql(DELETE, { as: alice, variables: { id: badId } }), 'deleteItem', 'id');
    },
  );
});

describe('item(id)', () => {
  it.each([['abc'], ['1.5'], ['-1'], ['0'], [' 1'], ['0x10'], ['99999999999999999999'], ['9223372036854775808']])(
    'rejects the id "%s"',
    async (badId) => {
      await seedItem();
      expectBadInput(await server.graphql(ITEM, { as: alice, variables: { id: badId } }), 'item', 'id', { item: null });
    },
  );

  it('accepts the largest bigint id (and finds nothing)', async () => {
    const response = await server.graphql(ITEM, { as: alice, variables: { id: '9223372036854775807' } });
    expect(response.body).toEqual({ data: { item: null } });
  });

  it('accepts an integer literal as an ID', async () => {
    const id = await seedItem();
    const response = await server.graphql(`{ item(id: ${id}) { id title } }`, { as: alice });
    expect(response.body).toEqual({ data: { item: { id, title: 'original' } } });
  });
});

describe('items', () => {
  it.each([
    ['0', 0],
    ['-1', -1],
    ['101', 101],
    ['null', null],
  ])('rejects first: %s', async (_label, first) => {
    expectBadInput(await server.graphql(ITEMS, { as: alice, variables: { first } }), 'items', 'first', null);
  });

  it('rejects an explicit null literal for first instead of using the default', async () => {
    expectBadInput(await server.graphql('{ items(first: null) { nodes { id } } }', { as: alice }), 'items', 'first', null);
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
    ['an overlong string', 'a'.repeat(500)],
    ['an empty string (not the same as no cursor)', ''],
  ])('rejects after: %s', async (_label, after) => {
    await seedItem();
    expectBadInput(await server.graphql(ITEMS, { as: alice, variables: { after } }), 'items', 'after', null);
  });
});

describe('malformed operations', () => {
  /** One error with `code` and status `status`, and never an internal error. */
  function expectGraphQLError(response: GraphQLResponse, status: number, code: string): void {
    expect(response.status).toBe(status);
    expect(response.body.data).toBeUndefined();
    expect(response.body.errors?.map((error) => error.extensions?.code)).toEqual([code]);
  }

  it('rejects an unknown field', async () => {
    expectGraphQLError(await server.graphql('{ items { nodes { id secret } } }', { as: alice }), 400, 'GRAPHQL_VALIDATION_FAILED');
  });

  it('rejects an unknown root field', async () => {
    expectGraphQLError(await server.graphql('{ users { id } }', { as: alice }), 400, 'GRAPHQL_VALIDATION_FAILED');
  });

  it('rejects an unknown input field and writes nothing', async () => {
    const response = await server.graphql('mutation { createItem(input: {title: "a", ownerId: "bob"}) { id } }', { as: alice });
    expectGraphQLError(response, 400, 'GRAPHQL_VALIDATION_FAILED');
    expect(await allRows()).toEqual([]);
  });

  it('rejects a literal of the wrong type', async () => {
    expectGraphQLError(await server.graphql('{ items(first: "ten") { nodes { id } } }', { as: alice }), 400, 'GRAPHQL_VALIDATION_FAILED');
  });

  it.each([
    ['a string for Int', { first: 'ten' }],
    ['a float for Int', { first: 1.5 }],
    ['an Int beyond 32 bits', { first: 2 ** 31 }],
    ['an object for String', { first: 1, after: { cursor: 'x' } }],
  ])('rejects a variable with %s', async (_label, variables) => {
    expectGraphQLError(await server.graphql(ITEMS, { as: alice, variables }), 400, 'BAD_USER_INPUT');
  });

  it('rejects a float for an ID variable', async () => {
    expectGraphQLError(await server.graphql(ITEM, { as: alice, variables: { id: 1.5 } }), 400, 'BAD_USER_INPUT');
  });

  it('rejects a number for a String input field and writes nothing', async () => {
    expectGraphQLError(await create({ title: 42 }), 400, 'BAD_USER_INPUT');
    expect(await allRows()).toEqual([]);
  });

  it('rejects a missing required variable', async () => {
    expectGraphQLError(await server.graphql(ITEM, { as: alice }), 400, 'BAD_USER_INPUT');
  });

  it('rejects a syntax error', async () => {
    expectGraphQLError(await server.graphql('{ items { nodes { id }', { as: alice }), 400, 'GRAPHQL_PARSE_FAILED');
  });
});
