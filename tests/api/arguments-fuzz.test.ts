import fc from 'fast-check';
import { encodeCursor } from '../../src/api/page';
import { admin, alice, bob, startTestServer, type TestServer } from '../support/test-server';

// Property: whatever a caller puts in any argument of any operation — any unicode (NUL, lone
// surrogates, very long), numbers, booleans, nulls, wrong types — the answer is a client error or
// data, never INTERNAL_SERVER_ERROR or HTTP 5xx; and afterwards every item is exactly what its
// audit rows say it is (no change committed without its row).

const NUM_RUNS = 150;

/** One unit of a string: any code point, plus NUL and lone surrogates (which `binary` leaves out). */
const unit = fc.oneof(
  { weight: 30, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constant('\u0000') },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)) },
);
const shortString = fc.oneof(
  { weight: 1, arbitrary: fc.string({ unit, maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
);
const anyString = fc.oneof(
  { weight: 4, arbitrary: shortString },
  // Long: up to ~30,000 units, well under the 1 MB body limit even when every unit is JSON-escaped.
  { weight: 1, arbitrary: fc.tuple(shortString, fc.integer({ min: 50, max: 1_200 })).map(([text, times]) => text.repeat(times)) },
);
const anyNumber = fc.oneof(fc.integer(), fc.integer({ min: -3, max: 300 }), fc.double());
const anyScalar = fc.oneof(anyString, anyNumber, fc.boolean(), fc.constant(null));

let server: TestServer;
let itemIds: string[];
beforeAll(async () => {
  server = await startTestServer();
  itemIds = [];
  // Through the API, so every item starts with its audit row.
  for (const [owner, title] of [
    [alice, 'alice one'],
    [alice, 'alice two'],
    [bob, 'bob one'],
    [admin, 'admin one'],
  ] as const) {
    const response = await server.graphql('mutation($t: String!) { createItem(input: { title: $t }) { id } }', { as: owner, variables: { t: title } });
    itemIds.push(response.body.data.createItem.id);
  }
});
afterAll(() => server.stop());

/**
 * Mostly values of the argument's own type, so that most requests get past GraphQL's coercion and
 * their strings reach the API's code; sometimes anything at all.
 */
function argument<T>(plausible: fc.Arbitrary<T>): fc.Arbitrary<T | string | number | boolean | null> {
  return fc.oneof({ weight: 30, arbitrary: plausible }, { weight: 1, arbitrary: anyScalar });
}

function operations() {
  const oneOf = <T>(common: fc.Arbitrary<T>, rare: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: common }, { weight: 1, arbitrary: rare });
  // The seeded items, the ones the run creates, and ids that cannot exist.
  const id = argument(
    oneOf(
      fc.oneof(fc.constantFrom(...itemIds), fc.integer({ min: 1, max: 40 }).map(String)),
      fc.oneof(fc.constantFrom('0', '-1', '9223372036854775808'), anyString),
    ),
  );
  const cursor = argument(oneOf(fc.constantFrom(encodeCursor('item', 1n), encodeCursor('audit', 1n), encodeCursor('item', 99n)), anyString));
  const first = argument(oneOf(fc.integer({ min: 1, max: 100 }), fc.oneof(fc.integer({ min: -2, max: 250 }), fc.integer())));
  const text = argument(oneOf(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), anyString));
  const date = argument(
    oneOf(
      fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((value) => value.toISOString()),
      fc.oneof(
        fc.constantFrom('0000-01-01T00:00:00Z', '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59-01:00'),
        fc.date({ noInvalidDate: true }).map((value) => value.toISOString()),
        anyString,
      ),
    ),
  );
  const filter = argument(
    fc.record(
      {
        userId: argument(oneOf(fc.constantFrom('alice', 'bob', 'root'), anyString)),
        action: argument(oneOf(fc.constantFrom('create_item', 'update_item', 'access_denied'), anyString)),
        actions: argument(fc.array(argument(oneOf(fc.constantFrom('create_item', 'delete_item'), anyString)), { maxLength: 3 })),
        resourceType: text,
        resourceId: id,
        outcome: argument(fc.constantFrom('SUCCESS', 'DENIED', 'ERROR')),
        adminBypass: argument(fc.boolean()),
        requestId: text,
        from: date,
        to: date,
      },
      { requiredKeys: [] },
    ),
  );
  const input = argument(fc.record({ title: text, description: text }, { requiredKeys: [] }));
  const operation = (query: string, variables: fc.Arbitrary<Record<string, unknown>>) => variables.map((values) => ({ query, variables: values }));

  return fc.oneof(
    operation('{ me { id: userId role } }', fc.constant({})),
    operation('query($id: ID!) { item(id: $id) { id title description ownerId } }', fc.record({ id })),
    operation(
      'query($first: Int, $after: String, $ownerId: String) { items(first: $first, after: $after, ownerId: $ownerId) { nodes { id title } pageInfo { endCursor } totalCount } }',
      fc.record({ first, after: cursor, ownerId: argument(fc.oneof(fc.constantFrom('alice', 'bob'), anyString)) }, { requiredKeys: [] }),
    ),
    operation(
      'query($filter: AuditLogFilter, $first: Int, $after: String) { auditLogs(filter: $filter, first: $first, after: $after) { nodes { id action details } pageInfo { endCursor } totalCount } }',
      fc.record({ filter, first, after: cursor }, { requiredKeys: [] }),
    ),
    operation('query($id: ID!) { auditLog(id: $id) { id action details } }', fc.record({ id })),
    operation('mutation($input: CreateItemInput!) { createItem(input: $input) { id title } }', fc.record({ input })),
    operation(
      'mutation($id: ID!, $input: UpdateItemInput!) { updateItem(id: $id, input: $input) { id title description } }',
      fc.record({ id, input }),
    ),
    operation('mutation($id: ID!) { deleteItem(id: $id) { deletedItemId } }', fc.record({ id })),
  );
}

interface Item {
  ownerId: string;
  title: string;
  description: string | null;
}

/** The items as their audit rows tell their story, replayed in order; a change that does not follow on from the last is reported. */
async function itemsAsTheTrailTellsIt(): Promise<Map<string, Item>> {
  const rows = await server.sql<{ action: string; resource_id: string; details: any }[]>`
    select action, resource_id, details from audit_logs
    where outcome = 'success' and action in ('create_item', 'update_item', 'delete_item') order by id`;
  const items = new Map<string, Item>();
  for (const { action, resource_id: id, details } of rows) {
    if (action === 'create_item') {
      const { ownerId, title, description } = details.after;
      items.set(id, { ownerId, title, description });
    } else if (action === 'update_item') {
      const item = items.get(id)!;
      for (const [field, change] of Object.entries(details.changes as Record<string, { from: unknown; to: unknown }>)) {
        expect({ id, field, value: item[field as 'title' | 'description'] }).toEqual({ id, field, value: change.from });
        Object.assign(item, { [field]: change.to });
      }
    } else {
      items.delete(id);
    }
  }
  return items;
}

it(`answers ${NUM_RUNS} arbitrary calls without an internal error, and leaves no change without its audit row`, async () => {
  const callers = [alice, bob, admin];
  await fc.assert(
    fc.asyncProperty(operations(), fc.constantFrom(...callers), async ({ query, variables }, as) => {
      const response = await server.graphql(query, { as, variables });
      expect([200, 400]).toContain(response.status);
      for (const error of response.body.errors ?? []) {
        expect(error.extensions?.code).toEqual(expect.any(String));
        expect(error.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
      }
    }),
    { numRuns: NUM_RUNS },
  );

  const stored = await server.sql<{ id: string; owner_id: string; title: string; description: string | null }[]>`
    select id::text, owner_id, title, description from items order by id`;
  const told = await itemsAsTheTrailTellsIt();
  expect(new Map(stored.map((row) => [row.id, { ownerId: row.owner_id, title: row.title, description: row.description }]))).toEqual(told);
});
