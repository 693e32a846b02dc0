import { auditRowsOfRequest, echoedRequestId } from '../support/audit-rows';
import { expectInvalidInput, expectRequestError } from '../support/errors';
import { admin, alice, startTestServer, type GraphQLResponse, type TestServer } from '../support/test-server';

// Values PostgreSQL cannot store — NUL, UTF-16 surrogates that are not part of a pair, timestamps
// outside years 1–9999 — in any argument, and operations the API does not have: each is a client
// error naming what is at fault, never INTERNAL_SERVER_ERROR, and writes nothing (no item, no row).

const UNSTORABLE: [string, string][] = [
  ['a NUL character', 'be\u0000fore'],
  ['a lone high surrogate', 'half \ud83d'],
  ['a lone low surrogate', '\ude00 half'],
  ['a reversed surrogate pair', 'x\ude00\ud83dx'],
];

/** One operation, the argument at fault (as `extensions.field` names it) and variables putting `bad` there. */
interface Case {
  readonly name: string;
  readonly as: typeof alice;
  readonly query: string;
  readonly field: string;
  readonly path: string;
  readonly variables: (bad: string, itemId: string) => Record<string, unknown>;
}

const CASES: Case[] = [
  { name: 'item(id)', as: alice, query: 'query($v: ID!) { item(id: $v) { id } }', path: 'item', field: 'id', variables: (v) => ({ v }) },
  {
    name: 'items(ownerId)',
    as: alice,
    query: 'query($v: String) { items(ownerId: $v) { nodes { id } } }',
    path: 'items',
    field: 'ownerId',
    variables: (v) => ({ v }),
  },
  {
    name: 'items(ownerId) as admin',
    as: admin,
    query: 'query($v: String) { items(ownerId: $v) { nodes { id } } }',
    path: 'items',
    field: 'ownerId',
    variables: (v) => ({ v }),
  },
  {
    name: 'items(after)',
    as: alice,
    query: 'query($v: String) { items(after: $v) { nodes { id } } }',
    path: 'items',
    field: 'after',
    variables: (v) => ({ v }),
  },
  {
    name: 'createItem(input.title)',
    as: alice,
    query: 'mutation($v: String!) { createItem(input: { title: $v }) { id } }',
    path: 'createItem',
    field: 'input.title',
    variables: (v) => ({ v }),
  },
  {
    name: 'createItem(input.description)',
    as: alice,
    query: 'mutation($v: String) { createItem(input: { title: "ok", description: $v }) { id } }',
    path: 'createItem',
    field: 'input.description',
    variables: (v) => ({ v }),
  },
  {
    name: 'updateItem(id)',
    as: alice,
    query: 'mutation($v: ID!) { updateItem(id: $v, input: { title: "ok" }) { id } }',
    path: 'updateItem',
    field: 'id',
    variables: (v) => ({ v }),
  },
  {
    name: 'updateItem(input.title)',
    as: alice,
    query: 'mutation($id: ID!, $v: String) { updateItem(id: $id, input: { title: $v }) { id } }',
    path: 'updateItem',
    field: 'input.title',
    variables: (v, id) => ({ id, v }),
  },
  {
    name: 'updateItem(input.description) as admin',
    as: admin,
    query: 'mutation($id: ID!, $v: String) { updateItem(id: $id, input: { description: $v }) { id } }',
    path: 'updateItem',
    field: 'input.description',
    variables: (v, id) => ({ id, v }),
  },
  {
    name: 'deleteItem(id)',
    as: alice,
    query: 'mutation($v: ID!) { deleteItem(id: $v) { deletedItemId } }',
    path: 'deleteItem',
    field: 'id',
    variables: (v) => ({ v }),
  },
  { name: 'auditLog(id)', as: admin, query: 'query($v: ID!) { auditLog(id: $v) { id } }', path: 'auditLog', field: 'id', variables: (v) => ({ v }) },
  {
    name: 'auditLogs(after)',
    as: admin,
    query: 'query($v: String) { auditLogs(after: $v) { nodes { id } } }',
    path: 'auditLogs',
    field: 'after',
    variables: (v) => ({ v }),
  },
  ...(['userId', 'action', 'resourceType', 'resourceId', 'requestId'] as const).map(
    (key): Case => ({
      name: `auditLogs(filter.${key})`,
      as: admin,
      query: 'query($f: AuditLogFilter) { auditLogs(filter: $f) { nodes { id } } }',
      path: 'auditLogs',
      field: `filter.${key}`,
      variables: (v) => ({ f: { [key]: v } }),
    }),
  ),
  {
    name: 'auditLogs(filter.actions[1])',
    as: admin,
    query: 'query($f: AuditLogFilter) { auditLogs(filter: $f) { nodes { id } } }',
    path: 'auditLogs',
    field: 'filter.actions[1]',
    variables: (v) => ({ f: { actions: ['create_item', v] } }),
  },
  {
    // A refused caller is refused for the input first: its values could not be stored in a denied row.
    name: 'auditLogs(filter.requestId) as a user',
    as: alice,
    query: 'query($f: AuditLogFilter) { auditLogs(filter: $f) { nodes { id } } }',
    path: 'auditLogs',
    field: 'filter.requestId',
    variables: (v) => ({ f: { requestId: v } }),
  },
];

let server: TestServer;
let itemId: string;
beforeAll(async () => {
  server = await startTestServer();
  const [row] = await server.sql`insert into items (owner_id, title) values ('alice', 'kept') returning id`;
  itemId = String(row!.id);
});
afterAll(() => server.stop());

/** Both tables in full but the refusals' own rows (see {@link expectBadInput}), to show a refused request changed nothing. */
async function snapshot() {
  return {
    items: [...(await server.sql`select * from items order by id`)],
    audit: [...(await server.sql`select * from audit_logs where action <> 'invalid_argument' order by id`)],
  };
}

/** BAD_USER_INPUT naming `field`, and the attempt's one audit row naming it too (never its value). */
async function expectBadInput(response: GraphQLResponse, path: string, field: string): Promise<void> {
  // Of the root fields refused here only item and auditLog are nullable: the others null all of `data`.
  expectInvalidInput(response, { path, field, data: ['item', 'auditLog'].includes(path) ? { [path]: null } : null });
  const rows = await auditRowsOfRequest(server.sql, echoedRequestId(response));
  expect(rows.map(({ action, outcome, details }) => ({ action, outcome, details }))).toEqual([{ action: 'invalid_argument', outcome: 'denied', details: { argument: field, fields: [expect.stringMatching(new RegExp(`\\.${path}$`))], count: 1 } }]);
}

describe.each(UNSTORABLE)('a string with %s', (_label, bad) => {
  it.each(CASES.map((c) => [c.name, c] as const))('in %s is BAD_USER_INPUT naming it, and writes nothing', async (_name, c) => {
    const before = await snapshot();
    const response = await server.graphql(c.query, { as: c.as, variables: c.variables(bad, itemId) });
    await expectBadInput(response, c.path, c.field);
    expect(await snapshot()).toEqual(before);
  });

});

it('refuses NUL in an inline literal the same way', async () => {
  const before = await snapshot();
  const response = await server.graphql('{ auditLogs(filter: { userId: "be\\u0000fore" }) { nodes { id } } }', { as: admin });
  await expectBadInput(response, 'auditLogs', 'filter.userId');
  expect(await snapshot()).toEqual(before);
});

it('refuses a lone surrogate in an inline literal while parsing (graphql-js), with HTTP 400', async () => {
  const response = await server.graphql('{ auditLogs(filter: { userId: "half \\ud83d" }) { nodes { id } } }', { as: admin });
  expectRequestError(response, { status: 400, code: 'GRAPHQL_PARSE_FAILED', inOperation: true });
});

it('keeps accepting characters outside the BMP (valid surrogate pairs)', async () => {
  const response = await server.graphql('mutation($t: String!) { createItem(input: { title: $t }) { title } }', {
    as: alice,
    variables: { t: 'party 🎉😀' },
  });
  expect(response.body).toEqual({ data: { createItem: { title: 'party 🎉😀' } } });
});

describe('timestamps', () => {
  const AUDIT_LOGS = 'query($f: AuditLogFilter) { auditLogs(filter: $f) { nodes { id } } }';

  it.each([
    ['from', '0000-01-01T00:00:00Z'],
    ['from', '0000-12-31T23:59:59.999Z'],
    ['to', '0000-06-15T12:00:00Z'],
    // In range as written, but not once the offset is applied.
    ['from', '0001-01-01T00:30:00+01:00'],
    ['to', '9999-12-31T23:30:00-01:00'],
  ])('filter.%s %s (outside years 1 to 9999 UTC) is BAD_USER_INPUT naming it', async (key, value) => {
    const before = await snapshot();
    await expectBadInput(await server.graphql(AUDIT_LOGS, { as: admin, variables: { f: { [key]: value } } }), 'auditLogs', `filter.${key}`);
    expect(await snapshot()).toEqual(before);
  });

  it('from "0000-01-01T00:00:00Z" as an inline literal is BAD_USER_INPUT too', async () => {
    const response = await server.graphql('{ auditLogs(filter: { from: "0000-01-01T00:00:00Z" }) { nodes { id } } }', { as: admin });
    await expectBadInput(response, 'auditLogs', 'filter.from');
  });

  it('accepts the first and last instants of the range', async () => {
    const response = await server.graphql(AUDIT_LOGS, {
      as: admin,
      variables: { f: { from: '0001-01-01T00:00:00Z', to: '9999-12-31T23:59:59.999Z' } },
    });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.auditLogs.nodes).toEqual(expect.any(Array));
  });
});

describe('operations HTTP does not serve', () => {
  it.each([
    ['a user', alice],
    ['an anonymous caller', undefined],
  ])('a subscription from %s is HTTP 400 GRAPHQL_VALIDATION_FAILED and writes nothing', async (_label, as) => {
    const before = await snapshot();
    const response = await server.graphql('subscription Watch { auditLogAdded { cursor } }', { as });
    expectRequestError(response, {
      status: 400,
      code: 'GRAPHQL_VALIDATION_FAILED',
      message: 'Not a subscription over HTTP: subscriptions are served over graphql-ws (WebSocket) on /graphql.',
      inOperation: true,
    });
    expect(await snapshot()).toEqual(before);
  });
});
