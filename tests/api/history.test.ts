import path from 'node:path';
import { WITHHELD } from '../../src/audit';
import { API_FEATURES } from '../../src/graphql/features';
import { feature as notesFeature } from '../fixtures/notes/note.feature';
import { tracedRequest, type StoredAuditRow } from '../support/audit-rows';
import { dataOf, expectFieldError } from '../support/errors';
import { withBackstopOff } from '../support/backstop-off';
import { CREATE_ITEM, DELETE_ITEM, ITEM_FIELDS, ITEM_NOT_FOUND, UPDATE_ITEM, itemId, rawIdOf } from '../support/items';
import { admin, alice, bob, startTestServer, type TestServer } from '../support/test-server';

/*
 * An item's past, rebuilt from the audit trail over real HTTP: `item(id:, asOf:)`, `history(id:)`
 * and `restoreItem(id:, asOf:)`, who may use them and what each records; and the notes fixture,
 * whose withheld `pin` is shown withheld and never restored.
 */

const AS_OF = `query($id: ID!, $asOf: DateTimeISO) { item(id: $id, asOf: $asOf) { ${ITEM_FIELDS} } }`;
const HISTORY = `query($id: ID!, $first: Int, $after: String) {
  history(id: $id, first: $first, after: $after) {
    nodes { timestamp action userId source databaseRole changedFields }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;
const RESTORE = `mutation($id: ID!, $asOf: DateTimeISO!) { restoreItem(id: $id, asOf: $asOf) { ${ITEM_FIELDS} } }`;

let server: TestServer;

/** The notes feature's migration (its table and audit backstop), as `npm run db:migrate` would apply it. */
const NOTES = { features: [...API_FEATURES, notesFeature], migrations: [path.join(__dirname, '../fixtures/notes/0001_notes.sql')] };

beforeAll(async () => {
  server = await startTestServer({}, NOTES);
});
afterAll(() => server?.stop());

type Caller = typeof alice;
const call = (query: string, as: Caller, variables: Record<string, unknown>, headers?: Record<string, string>) =>
  tracedRequest(server, query, { as, variables, headers });
const asOf = (as: Caller, id: string, instant: string | Date) => call(AS_OF, as, { id, asOf: new Date(instant).toISOString() });
const history = (as: Caller, id: string, first = 20, after?: string) => call(HISTORY, as, { id, first, after });
const restore = (as: Caller, id: string, instant: string | Date) => call(RESTORE, as, { id, asOf: new Date(instant).toISOString() });
const before = (instant: string) => new Date(new Date(instant).getTime() - 1);
const itemRow = async (id: string) => (await server.sql`select id, owner_id, title, description from items where id = ${rawIdOf(id)}`)[0];
const rowsOf = (rows: StoredAuditRow[]) =>
  rows.map(({ action, outcome, resource_id, owner_ids, admin_bypass, details, user_id }) => ({ action, outcome, resource_id, owner_ids, admin_bypass, details, user_id }));

interface Version {
  timestamp: string;
  action: string;
  userId: string | null;
  source: string;
  databaseRole: string | null;
  changedFields: string[];
}

/** alice's item, created, changed twice and deleted: its versions oldest first. */
async function itemWithPast(): Promise<{ id: string; versions: Version[] }> {
  const created = dataOf(await server.graphql(CREATE_ITEM, { as: alice, variables: { input: { title: 'first', description: 'plain' } } }));
  const id: string = created.createItem.id;
  dataOf(await server.graphql(UPDATE_ITEM, { as: alice, variables: { id, input: { title: 'second' } } }));
  dataOf(await server.graphql(UPDATE_ITEM, { as: alice, variables: { id, input: { description: null } } }));
  dataOf(await server.graphql(DELETE_ITEM, { as: alice, variables: { id } }));
  const { body } = await history(alice, id);
  return { id, versions: [...body.data.history.nodes].reverse() };
}

describe('an item as it was, and its versions', () => {
  let id: string;
  let versions: Version[];

  beforeAll(async () => {
    ({ id, versions } = await itemWithPast());
  });

  it('lists its versions newest first: when, who, where, which action and fields', async () => {
    expect(versions).toEqual([
      { timestamp: expect.any(String), action: 'create_item', userId: 'alice', source: 'API', databaseRole: null, changedFields: ['id', 'ownerId', 'title', 'description', 'createdAt', 'updatedAt'] },
      { timestamp: expect.any(String), action: 'update_item', userId: 'alice', source: 'API', databaseRole: null, changedFields: ['title'] },
      { timestamp: expect.any(String), action: 'update_item', userId: 'alice', source: 'API', databaseRole: null, changedFields: ['description'] },
      { timestamp: expect.any(String), action: 'delete_item', userId: 'alice', source: 'API', databaseRole: null, changedFields: ['id', 'ownerId', 'title', 'description', 'createdAt', 'updatedAt'] },
    ]);
  });

  it('answers null before its creation, each version’s state from its instant on, and null once deleted', async () => {
    const stateAt = async (instant: string | Date) => dataOf(await asOf(alice, id, instant)).item;
    expect(await stateAt(before(versions[0]!.timestamp))).toBeNull();
    expect(await stateAt(versions[0]!.timestamp)).toEqual({
      id,
      ownerId: 'alice',
      title: 'first',
      description: 'plain',
      createdAt: expect.any(String),
      updatedAt: versions[0]!.timestamp,
    });
    expect(await stateAt(versions[1]!.timestamp)).toMatchObject({ title: 'second', description: 'plain', updatedAt: versions[1]!.timestamp });
    expect(await stateAt(before(versions[2]!.timestamp))).toMatchObject({ title: 'second', description: 'plain' });
    expect(await stateAt(versions[2]!.timestamp)).toMatchObject({ title: 'second', description: null });
    expect(await stateAt(versions[3]!.timestamp)).toBeNull();
    expect(await stateAt('9999-01-01T00:00:00Z')).toBeNull();
  });

  it('records nothing when the owner reads their own item’s past', async () => {
    const read = await asOf(alice, id, versions[1]!.timestamp);
    const listed = await history(alice, id);
    expect([...(await read.rows()), ...(await listed.rows())]).toEqual([]);
  });

  it('pages the versions newest first', async () => {
    const first = dataOf(await history(alice, id, 3)).history;
    expect(first.nodes.map((version: Version) => version.action)).toEqual(['delete_item', 'update_item', 'update_item']);
    expect(first).toMatchObject({ pageInfo: { hasNextPage: true }, totalCount: 4 });
    const second = dataOf(await history(alice, id, 3, first.pageInfo.endCursor)).history;
    expect(second.nodes.map((version: Version) => version.action)).toEqual(['create_item']);
    expect(second.pageInfo.hasNextPage).toBe(false);
  });

  it('answers another user null and records a denied view, for the past and the versions alike', async () => {
    const read = await asOf(bob, id, versions[1]!.timestamp);
    expect(dataOf(read)).toEqual({ item: null });
    const listed = await history(bob, id);
    expect(dataOf(listed)).toEqual({ history: null });
    const denied = { action: 'view_item', outcome: 'denied', resource_id: rawIdOf(id), owner_ids: ['alice'], admin_bypass: false, details: { reason: 'not_owner', ownerId: 'alice' }, user_id: 'bob' };
    expect(rowsOf(await read.rows())).toEqual([denied]);
    expect(rowsOf(await listed.rows())).toEqual([denied]);
  });

  it('answers an admin, recording each read of someone else’s item as a bypass', async () => {
    const read = await asOf(admin, id, versions[1]!.timestamp);
    expect(dataOf(read).item).toMatchObject({ title: 'second' });
    expect(rowsOf(await read.rows())).toEqual([
      expect.objectContaining({ action: 'admin_view_item', outcome: 'success', resource_id: rawIdOf(id), owner_ids: ['alice'], admin_bypass: true, details: { fields: ITEM_FIELDS.split(' ') } }),
    ]);
    const listed = await history(admin, id);
    expect(dataOf(listed).history.totalCount).toBe(4);
    expect(rowsOf(await listed.rows())).toEqual([
      expect.objectContaining({ action: 'admin_view_item', outcome: 'success', resource_id: rawIdOf(id), owner_ids: ['alice'], admin_bypass: true, details: { fields: ['Query.history'] } }),
    ]);
  });

  it('answers null for an id that never existed, recording nothing', async () => {
    const missing = itemId(BigInt(rawIdOf(id)) + 100_000n);
    const read = await asOf(alice, missing, versions[1]!.timestamp);
    const listed = await history(admin, missing);
    expect([dataOf(read), dataOf(listed)]).toEqual([{ item: null }, { history: null }]);
    expect([...(await read.rows()), ...(await listed.rows())]).toEqual([]);
  });
});

describe('restoring an item', () => {
  it('recreates a deleted item with its id, as one change naming the version restored', async () => {
    const { id, versions } = await itemWithPast();
    const restored = await restore(alice, id, versions[1]!.timestamp);
    expect(dataOf(restored).restoreItem).toMatchObject({ id, ownerId: 'alice', title: 'second', description: 'plain' });
    expect(await itemRow(id)).toEqual({ id: rawIdOf(id), owner_id: 'alice', title: 'second', description: 'plain' });
    const [restoreRow, ...others] = await restored.rows();
    expect(others).toEqual([]);
    const [versionRow] = await server.sql`select id from audit_logs where resource_id = ${rawIdOf(id)} and action = 'update_item' order by id limit 1`;
    expect(rowsOf([restoreRow!])).toEqual([
      {
        action: 'restore_item',
        outcome: 'success',
        resource_id: rawIdOf(id),
        owner_ids: ['alice'],
        admin_bypass: false,
        user_id: 'alice',
        details: {
          restoredTo: new Date(versions[1]!.timestamp).toISOString(),
          version: String(versionRow!.id),
          recreated: true,
          after: { id: rawIdOf(id), ownerId: 'alice', title: 'second', description: 'plain', createdAt: expect.any(String), updatedAt: expect.any(String) },
        },
      },
    ]);
    // The restore is a version of its own, and the state from then on is the one restored.
    const latest = dataOf(await history(alice, id, 1)).history.nodes[0];
    expect(latest).toMatchObject({ action: 'restore_item', userId: 'alice', changedFields: ['id', 'ownerId', 'title', 'description', 'createdAt', 'updatedAt'] });
    expect(dataOf(await asOf(alice, id, latest.timestamp)).item).toMatchObject({ title: 'second', description: 'plain' });
    expect(dataOf(await asOf(alice, id, versions[3]!.timestamp)).item).toBeNull();
  });

  it('sets an existing item back, recording what changed; an admin’s restore of someone else’s is a bypass', async () => {
    const created = dataOf(await server.graphql(CREATE_ITEM, { as: alice, variables: { input: { title: 'kept', description: null } } }));
    const id: string = created.createItem.id;
    const createdAt = dataOf(await history(alice, id)).history.nodes[0].timestamp;
    dataOf(await server.graphql(UPDATE_ITEM, { as: alice, variables: { id, input: { title: 'changed', description: 'added' } } }));
    const restored = await restore(admin, id, createdAt);
    expect(dataOf(restored).restoreItem).toMatchObject({ id, title: 'kept', description: null });
    expect(rowsOf(await restored.rows())).toEqual([
      expect.objectContaining({
        action: 'restore_item',
        admin_bypass: true,
        user_id: 'root',
        details: expect.objectContaining({ recreated: false, changes: { title: { from: 'changed', to: 'kept' }, description: { from: 'added', to: null } } }),
      }),
      // The item the mutation returns, read in the change's own transaction.
      expect.objectContaining({ action: 'admin_view_item', admin_bypass: true }),
    ]);
  });

  it('refuses another user as NOT_FOUND, with a denied row, changing nothing', async () => {
    const { id, versions } = await itemWithPast();
    const refused = await restore(bob, id, versions[1]!.timestamp);
    expectFieldError(refused, { path: 'restoreItem', data: null, ...ITEM_NOT_FOUND });
    expect(rowsOf(await refused.rows())).toEqual([
      { action: 'restore_item', outcome: 'denied', resource_id: rawIdOf(id), owner_ids: ['alice'], admin_bypass: false, details: { reason: 'not_owner', ownerId: 'alice' }, user_id: 'bob' },
    ]);
    expect(await itemRow(id)).toBeUndefined();
  });

  it('refuses an instant the item did not exist at as bad input on asOf', async () => {
    const { id, versions } = await itemWithPast();
    const refused = await restore(alice, id, before(versions[0]!.timestamp));
    expectFieldError(refused, { path: 'restoreItem', data: null, code: 'BAD_USER_INPUT', field: 'asOf', message: 'asOf: the item did not exist then' });
    expect(rowsOf(await refused.rows())).toEqual([expect.objectContaining({ action: 'restore_item', outcome: 'denied', details: { reason: 'invalid_input', field: 'asOf' } })]);
  });
});

describe('a gap in the trail', () => {
  /** An item inserted where nothing records it: by a superuser with the backstop switched off. */
  async function unrecordedItem(): Promise<string> {
    const [inserted] = await withBackstopOff(server.sql, 'items', (tx) => tx`insert into items (owner_id, title) values ('alice', 'unrecorded') returning id`);
    return itemId(inserted!.id);
  }

  it('answers HISTORY_INCOMPLETE for an item the trail holds no creation of', async () => {
    const id = await unrecordedItem();
    expectFieldError(await asOf(alice, id, new Date()), {
      path: 'item',
      data: { item: null },
      code: 'HISTORY_INCOMPLETE',
      extensions: { reason: 'gap' },
    });
  });

  it('refuses a restore it cannot rebuild, with a denied row, writing nothing', async () => {
    const id = await unrecordedItem();
    const refused = await restore(alice, id, new Date());
    expectFieldError(refused, { path: 'restoreItem', data: null, code: 'HISTORY_INCOMPLETE', extensions: { reason: 'gap' } });
    expect(rowsOf(await refused.rows())).toEqual([
      expect.objectContaining({ action: 'restore_item', outcome: 'denied', resource_id: rawIdOf(id), owner_ids: ['alice'], details: expect.objectContaining({ reason: 'history_gap' }) }),
    ]);
    expect(await itemRow(id)).toMatchObject({ title: 'unrecorded' });
  });

  it('refuses a restore when the creation row is gone (as retention drops it) and only a change remains', async () => {
    const id = await unrecordedItem();
    // The change of a record whose creation month was dropped: its update row is all the trail holds.
    await server.sql`
      insert into audit_logs (user_id, user_role, action, resource_type, resource_id, owner_ids, outcome, details)
      values ('alice', 'USER', 'update_item', 'item', ${rawIdOf(id)}, '{alice}', 'success',
              ${server.sql.json({ changes: { title: { from: 'older', to: 'unrecorded' } } })})`;
    const refused = await restore(alice, id, new Date());
    expect(refused.body.errors?.[0]?.extensions).toEqual({ code: 'HISTORY_INCOMPLETE', reason: 'gap' });
    expect(dataOf(await history(alice, id)).history.totalCount).toBe(1);
  });

  it('finds versions missing when a change was made where nothing recorded it', async () => {
    const created = dataOf(await server.graphql(CREATE_ITEM, { as: alice, variables: { input: { title: 'recorded' } } }));
    const id: string = created.createItem.id;
    const versions = dataOf(await history(alice, id)).history.nodes as Version[];
    await withBackstopOff(server.sql, 'items', (tx) => tx`update items set title = 'changed unseen' where id = ${rawIdOf(id)}`);
    // Since its creation the title changed at some instant the trail cannot tell.
    expect((await asOf(alice, id, versions[0]!.timestamp)).body.errors?.[0]?.extensions).toEqual({ code: 'HISTORY_INCOMPLETE', reason: 'gap' });
    expect((await restore(alice, id, versions[0]!.timestamp)).body.errors?.[0]?.extensions).toEqual({ code: 'HISTORY_INCOMPLETE', reason: 'gap' });
    expect(await itemRow(id)).toMatchObject({ title: 'changed unseen' });
  });
});

describe('a long history, kept replayed between reads', () => {
  it('reads the versions written since, and still checks the live row on every read', async () => {
    const created = dataOf(await server.graphql(CREATE_ITEM, { as: alice, variables: { input: { title: 'v0' } } }));
    const id: string = created.createItem.id;
    // Past the length from which a process keeps a record's replayed versions.
    for (let n = 1; n <= 120; n++) dataOf(await server.graphql(UPDATE_ITEM, { as: alice, variables: { id, input: { title: `v${n}` } } }));
    const newest = (dataOf(await history(alice, id, 1)).history.nodes as Version[])[0]!;
    expect(dataOf(await asOf(alice, id, newest.timestamp)).item.title).toBe('v120');

    dataOf(await server.graphql(UPDATE_ITEM, { as: alice, variables: { id, input: { title: 'v121' } } }));
    expect(dataOf(await asOf(alice, id, new Date())).item.title).toBe('v121');
    expect(dataOf(await asOf(alice, id, newest.timestamp)).item.title).toBe('v120');

    await withBackstopOff(server.sql, 'items', (tx) => tx`update items set title = 'changed unseen' where id = ${rawIdOf(id)}`);
    expect((await asOf(alice, id, new Date())).body.errors?.[0]?.extensions).toEqual({ code: 'HISTORY_INCOMPLETE', reason: 'gap' });
  });
});

describe('a resource with a sensitive field (the notes fixture)', () => {
  const NOTE_AS_OF = 'query($id: ID!, $asOf: DateTimeISO) { note(id: $id, asOf: $asOf) { id body pin } }';
  const RESTORE_NOTE = 'mutation($id: ID!, $asOf: DateTimeISO!) { restoreNote(id: $id, asOf: $asOf) { id } }';

  it('shows the withheld value withheld, and refuses to restore it', async () => {
    const created = dataOf(await server.graphql('mutation { createNote(body: "hello", pin: "1234") { id } }', { as: alice }));
    const id: string = created.createNote.id;
    const createdAt = new Date();
    dataOf(await server.graphql(`mutation { updateNote(id: "${id}", body: "edited", pin: "9999") { id } }`, { as: alice }));
    expect(dataOf(await call(NOTE_AS_OF, alice, { id, asOf: createdAt.toISOString() }))).toEqual({ note: { id, body: 'hello', pin: WITHHELD } });

    const refused = await call(RESTORE_NOTE, alice, { id, asOf: createdAt.toISOString() });
    expectFieldError(refused, { path: 'restoreNote', data: null, code: 'HISTORY_INCOMPLETE', extensions: { reason: 'withheld', fields: ['pin'] } });
    expect(rowsOf(await refused.rows())).toEqual([
      expect.objectContaining({ action: 'restore_note', outcome: 'denied', details: { reason: 'fields_withheld', fields: ['pin'] } }),
    ]);
    const [stored] = await server.sql`select body, pin from notes where id = ${rawIdOf(id)}`;
    expect(stored).toEqual({ body: 'edited', pin: '9999' });
  });
});

describe('with ADMIN_ACCESS_REASON=required', () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startTestServer({ ADMIN_ACCESS_REASON: 'required', ACCESS_REASON_CODES: 'support' }, NOTES);
  });
  afterAll(() => strict?.stop());

  it('refuses an admin without a reason before anything of someone else’s item’s past is read, and answers one with a reason', async () => {
    const created = dataOf(await strict.graphql(CREATE_ITEM, { as: alice, variables: { input: { title: 'private' } } }));
    const id: string = created.createItem.id;
    const now = new Date().toISOString();
    const send = (query: string, variables: Record<string, unknown>, headers?: Record<string, string>) =>
      tracedRequest(strict, query, { as: admin, variables, headers });
    const required = { code: 'ACCESS_REASON_REQUIRED', message: /Access-Reason/ };

    const read = await send(AS_OF, { id, asOf: now });
    expectFieldError(read, { path: 'item', data: { item: null }, ...required });
    const listed = await send(HISTORY, { id });
    expectFieldError(listed, { path: 'history', data: { history: null }, ...required });
    const restored = await send(RESTORE, { id, asOf: now });
    expectFieldError(restored, { path: 'restoreItem', data: null, ...required });
    for (const [response, action, field] of [
      [read, 'admin_view_item', 'Query.item'],
      [listed, 'admin_view_item', 'Query.history'],
      [restored, 'restore_item', undefined],
    ] as const) {
      expect(rowsOf(await response.rows())).toEqual([
        expect.objectContaining({ action, outcome: 'denied', admin_bypass: true, owner_ids: ['alice'], details: expect.objectContaining({ reason: 'access_reason_required', ...(field ? { fields: [field] } : {}) }) }),
      ]);
    }

    const reason = { 'access-reason': 'support TICKET-7' };
    expect(dataOf(await send(AS_OF, { id, asOf: now }, reason)).item).toMatchObject({ title: 'private' });
    expect(dataOf(await send(HISTORY, { id }, reason)).history.totalCount).toBe(1);
    const allowed = await send(RESTORE, { id, asOf: now }, reason);
    expect(dataOf(allowed).restoreItem).toMatchObject({ title: 'private' });
    const [row] = await strict.sql`select access_reason, admin_bypass from audit_logs where request_id = ${allowed.requestId} and action = 'restore_item'`;
    expect(row).toEqual({ access_reason: 'support', admin_bypass: true });
  });
});
