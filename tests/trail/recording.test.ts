import type { TokenClaims } from '../../src/auth/token-signer';
import { auditRowsOfRequest, tracedRequest, TRACED_USER_AGENT, type StoredAuditRow } from '../support/audit-rows';
import { AUTHENTICATION_REQUIRED, expectFieldError, expectRequestError, INTERNAL_ERROR } from '../support/errors';
import { ITEM_FIELDS, ITEM_NOT_FOUND, itemId, rawIdOf } from '../support/items';
import { admin, alice, bob, startTestServer, type TestServer } from '../support/test-server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

/** Sends one operation as `as`; the request id the server gave it picks out exactly its audit rows. */
const send = (query: string, as: TokenClaims | string | undefined, variables?: Record<string, unknown>) =>
  tracedRequest(server, query, { as, variables });

async function createItem(owner: TokenClaims, title = 'item', description: string | null = null): Promise<string> {
  const { body } = await send('mutation Seed($input: CreateItemInput!) { createItem(input: $input) { id } }', owner, {
    input: { title, description },
  });
  return body.data.createItem.id;
}

describe('what is recorded, by whom', () => {
  it('createItem: one create_item row with the item as created and the request metadata', async () => {
    const res = await send('mutation Create { createItem(input: {title: "Pay rent", description: "May"}) { id } }', alice);
    const id = res.body.data.createItem.id;
    expect(await res.rows()).toEqual([
      expect.objectContaining({
        user_id: 'alice',
        user_role: 'USER',
        action: 'create_item',
        resource_type: 'item',
        resource_id: rawIdOf(id),
        outcome: 'success',
        admin_bypass: false,
        details: {
          after: expect.objectContaining({ id: rawIdOf(id), ownerId: 'alice', title: 'Pay rent', description: 'May' }),
        },
        operation_name: 'Create',
        ip: '127.0.0.1',
        user_agent: TRACED_USER_AGENT,
      }),
    ]);
  });

  it('updateItem: changed fields only, as from/to', async () => {
    const id = await createItem(alice, 'Draft', 'unchanged');
    const res = await send(`mutation Rename { updateItem(id: "${id}", input: {title: "Final", description: "unchanged"}) { id } }`, alice);
    expect(await res.rows()).toEqual([
      expect.objectContaining({
        action: 'update_item',
        outcome: 'success',
        resource_id: rawIdOf(id),
        admin_bypass: false,
        details: { changes: { title: { from: 'Draft', to: 'Final' } } },
      }),
    ]);
  });

  it('deleteItem: the item as it was', async () => {
    const id = await createItem(alice, 'Old');
    const res = await send(`mutation Remove { deleteItem(id: "${id}") { deletedItemId } }`, alice);
    expect(res.body.data.deleteItem).toEqual({ deletedItemId: id });
    expect(await res.rows()).toEqual([
      expect.objectContaining({
        action: 'delete_item',
        outcome: 'success',
        resource_id: rawIdOf(id),
        details: { before: expect.objectContaining({ id: rawIdOf(id), ownerId: 'alice', title: 'Old' }) },
      }),
    ]);
  });

  it('reads of your own items record nothing, for users and admins alike', async () => {
    const mine = await createItem(alice);
    const adminsOwn = await createItem(admin);
    const userRead = await send(`query Own { item(id: "${mine}") { ${ITEM_FIELDS} } items { nodes { id } } }`, alice);
    const adminRead = await send(`query Own { item(id: "${adminsOwn}") { ${ITEM_FIELDS} } }`, admin);
    expect(userRead.body.data.item.id).toBe(mine);
    expect(adminRead.body.data.item.id).toBe(adminsOwn);
    expect(await userRead.rows()).toEqual([]);
    expect(await adminRead.rows()).toEqual([]);
  });

  it("an admin reading someone else's item: one admin_view_item row naming the fields read", async () => {
    const id = await createItem(alice);
    const res = await send(`query Inspect { item(id: "${id}") { id title again: title ownerId } }`, admin);
    expect(res.body.data.item).toEqual({ id, title: 'item', again: 'item', ownerId: 'alice' });
    const rows = await res.rows();
    expect(rows).toEqual([
      expect.objectContaining({
        user_id: 'root',
        user_role: 'ADMIN',
        action: 'admin_view_item',
        resource_type: 'item',
        resource_id: rawIdOf(id),
        resource_ids: [],
        owner_ids: ['alice'],
        outcome: 'success',
        admin_bypass: true,
        operation_name: 'Inspect',
      }),
    ]);
    expect(rows[0]!.details).toEqual({ fields: ['id', 'title', 'ownerId'] });
  });

  it('an admin listing items: one row listing the foreign items and their owners, fields merged across the selection', async () => {
    const own = await createItem(admin);
    const foreign = [await createItem(alice), await createItem(bob), await createItem(bob)];
    const res = await send(
      `query Browse { items(first: 100) { nodes { id title } edges { node { id description } } } }`,
      admin,
    );
    const listed = res.body.data.items.nodes.map((node: { id: string }) => node.id);
    expect(listed).toEqual(expect.arrayContaining([own, ...foreign]));
    const [row, ...others] = await res.rows();
    expect(others).toEqual([]);
    expect(row).toMatchObject({ action: 'admin_view_item', admin_bypass: true, resource_id: null });
    expect(row!.resource_ids).toEqual(expect.arrayContaining(foreign.map(rawIdOf)));
    expect(row!.resource_ids).not.toContain(rawIdOf(own));
    expect(new Set(row!.resource_ids).size).toBe(row!.resource_ids.length);
    expect([...row!.owner_ids].sort()).toEqual(['alice', 'bob']);
    // Which records are whose, so each owner's access log shows them their own alone.
    const { fields, recordsByOwner } = row!.details;
    expect(fields).toEqual(['id', 'title', 'description']);
    expect(Object.keys(recordsByOwner).sort()).toEqual(['alice', 'bob']);
    expect(recordsByOwner.alice).toContain(rawIdOf(foreign[0]!));
    expect(recordsByOwner.bob).toEqual(expect.arrayContaining([rawIdOf(foreign[1]!), rawIdOf(foreign[2]!)]));
    expect([...recordsByOwner.alice, ...recordsByOwner.bob].sort()).toEqual([...row!.resource_ids].sort());
    expect(Object.keys(row!.details)).toEqual(['fields', 'recordsByOwner']);
  });

  it('the fields read are taken from the operation: fragments, inline fragments, @skip and @include', async () => {
    const id = await createItem(alice);
    const res = await send(
      `query Fragmented($skip: Boolean!, $include: Boolean!) {
        item(id: "${id}") {
          ...Basics
          ... on Item { createdAt }
          description @skip(if: $skip)
          updatedAt @include(if: $include)
          __typename
        }
      }
      fragment Basics on Item { id title }`,
      admin,
      { skip: true, include: false },
    );
    expect(Object.keys(res.body.data.item)).toEqual(['id', 'title', 'createdAt', '__typename']);
    const [row] = await res.rows();
    expect(row!.details).toEqual({ fields: ['id', 'title', 'createdAt'] });
  });

  it('even a read of nothing but __typename confirms the record exists, and is recorded', async () => {
    const id = await createItem(bob);
    const res = await send(`query Exists { item(id: "${id}") { __typename } }`, admin);
    expect(res.body.data.item).toEqual({ __typename: 'Item' });
    expect(await res.rows()).toEqual([
      expect.objectContaining({ action: 'admin_view_item', resource_id: rawIdOf(id), owner_ids: ['bob'], details: { fields: [] } }),
    ]);
  });

  it("an admin changing someone else's item: admin_bypass on the change, and the read of the result", async () => {
    const id = await createItem(bob, 'Before');
    const update = await send(`mutation Moderate { updateItem(id: "${id}", input: {title: "After"}) { id title } }`, admin);
    expect(update.body.data.updateItem).toEqual({ id, title: 'After' });
    expect((await update.rows()).map((row) => [row.action, row.outcome, row.admin_bypass])).toEqual([
      ['update_item', 'success', true],
      ['admin_view_item', 'success', true],
    ]);
    const removal = await send(`mutation Purge { deleteItem(id: "${id}") { deletedItemId } }`, admin);
    expect(await removal.rows()).toEqual([
      expect.objectContaining({ action: 'delete_item', outcome: 'success', admin_bypass: true, resource_id: rawIdOf(id) }),
    ]);
  });

  it("a user changing someone else's item: NOT_FOUND for the client, a denied row for the trail", async () => {
    const id = await createItem(alice, 'Mine');
    const update = await send(`mutation Tamper { updateItem(id: "${id}", input: {title: "Yours"}) { id } }`, bob);
    const removal = await send(`mutation Tamper { deleteItem(id: "${id}") { deletedItemId } }`, bob);
    expectFieldError(update, { path: 'updateItem', ...ITEM_NOT_FOUND, data: null });
    expectFieldError(removal, { path: 'deleteItem', ...ITEM_NOT_FOUND, data: null });
    expect(await update.rows()).toEqual([
      expect.objectContaining({
        user_id: 'bob',
        action: 'update_item',
        outcome: 'denied',
        resource_id: rawIdOf(id),
        admin_bypass: false,
        details: { reason: 'not_owner', ownerId: 'alice' },
        operation_name: 'Tamper',
      }),
    ]);
    expect(await removal.rows()).toEqual([expect.objectContaining({ action: 'delete_item', outcome: 'denied', resource_id: rawIdOf(id) })]);
    const [item] = await server.sql`select title from items where id = ${rawIdOf(id)}`;
    expect(item).toEqual({ title: 'Mine' });
  });

  it('changing an item that does not exist is a denied attempt too', async () => {
    const res = await send(`mutation Probe { deleteItem(id: "${itemId(987654321)}") { deletedItemId } }`, bob);
    expectFieldError(res, { path: 'deleteItem', ...ITEM_NOT_FOUND, data: null });
    expect(await res.rows()).toEqual([
      expect.objectContaining({ action: 'delete_item', outcome: 'denied', resource_id: '987654321', details: { reason: 'not_found' } }),
    ]);
  });

  it('a presented but invalid token is a denied authenticate row without a user', async () => {
    const res = await send('query Who { me { id: userId } }', 'not-a-jwt');
    expectRequestError(res, { status: 401, code: 'UNAUTHENTICATED' });
    expect(await res.rows()).toEqual([
      expect.objectContaining({ user_id: null, user_role: null, action: 'authenticate', outcome: 'denied' }),
    ]);
  });

  it('an anonymous call of a data field is a denied access_denied row naming the field', async () => {
    const res = await send('mutation Sneak { createItem(input: {title: "x"}) { id } }', undefined);
    expectFieldError(res, { ...AUTHENTICATION_REQUIRED, path: 'createItem', data: null });
    expect(await res.rows()).toEqual([
      expect.objectContaining({
        user_id: null,
        action: 'access_denied',
        outcome: 'denied',
        details: { fields: ['Mutation.createItem'], reason: 'unauthenticated', count: 1 },
        operation_name: 'Sneak',
      }),
    ]);
  });

  it('an X-Request-Id that is not a sane token is replaced by a generated one, echoed and recorded', async () => {
    const response = await server.graphql('mutation { createItem(input: {title: "x"}) { id } }', {
      as: alice,
      headers: { 'x-request-id': 'bad id with spaces\tand tabs' },
    });
    const echoed = response.headers.get('x-request-id');
    expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
    expect(await auditRowsOfRequest(server.sql, echoed!)).toEqual([expect.objectContaining({ action: 'create_item' })]);
  });
});

describe('atomicity: a change and its row commit together or not at all', () => {
  /**
   * Runs a trigger's DDL, again if PostgreSQL chose it as a deadlock's victim: on the partitioned
   * `audit_logs` it locks every month, while the server's sealer and upkeep lock them in their order.
   */
  async function ddl(statement: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await server.sql.unsafe(statement);
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== '40P01' || attempt === 5) throw error;
      }
    }
  }

  afterEach(async () => {
    await ddl('drop trigger if exists fail_at_commit on items');
    await ddl('drop trigger if exists fail_audit_insert on audit_logs');
  });

  /** A trigger that raises for rows matching `condition`; deferred ones fire at COMMIT. */
  async function addFailingTrigger(name: string, table: string, condition: string, deferred: boolean) {
    await server.sql.unsafe(`
      create or replace function ${name}() returns trigger language plpgsql as $$
      begin
        if ${condition} then raise exception 'injected failure'; end if;
        return new;
      end $$`);
    await ddl(
      deferred
        ? `create constraint trigger ${name} after insert or update on ${table} deferrable initially deferred for each row execute function ${name}()`
        : `create trigger ${name} before insert on ${table} for each row execute function ${name}()`,
    );
  }

  it('a change that fails at commit, after its row was written, leaves neither change nor success row', async () => {
    const id = await createItem(alice, 'Stable');
    await addFailingTrigger('fail_at_commit', 'items', "new.title = 'explode'", true);

    const update = await send(`mutation Doomed { updateItem(id: "${id}", input: {title: "explode"}) { id } }`, alice);
    const creation = await send('mutation Doomed { createItem(input: {title: "explode"}) { id } }', alice);

    expectFieldError(update, { path: 'updateItem', ...INTERNAL_ERROR, data: null });
    expectFieldError(creation, { path: 'createItem', ...INTERNAL_ERROR, data: null });
    expect(await server.sql`select title from items where id = ${rawIdOf(id)}`).toEqual([{ title: 'Stable' }]);
    expect(await server.sql`select count(*)::int as n from items where title = 'explode'`).toEqual([{ n: 0 }]);
    expect((await update.rows()).map((row) => [row.action, row.outcome, row.resource_id])).toEqual([['update_item', 'error', rawIdOf(id)]]);
    expect((await creation.rows()).map((row) => [row.action, row.outcome])).toEqual([['create_item', 'error']]);
  });

  it('a failing audit insert rolls the change back', async () => {
    const id = await createItem(alice, 'Kept');
    await addFailingTrigger('fail_audit_insert', 'audit_logs', "new.outcome = 'success'", false);

    const res = await send(`mutation Unrecordable { updateItem(id: "${id}", input: {title: "Lost"}) { id } }`, alice);

    expectFieldError(res, { path: 'updateItem', ...INTERNAL_ERROR, data: null });
    expect(await server.sql`select title from items where id = ${rawIdOf(id)}`).toEqual([{ title: 'Kept' }]);
    expect((await res.rows()).map((row) => [row.action, row.outcome])).toEqual([['update_item', 'error']]);
  });

  it('a read whose audit rows cannot be written returns an error and no data', async () => {
    const id = await createItem(alice, 'Secret');
    await addFailingTrigger('fail_audit_insert', 'audit_logs', "new.action = 'admin_view_item'", false);

    const res = await send(`query Snoop { item(id: "${id}") { id title } }`, admin);

    expectRequestError(res, { status: 503, code: 'INTERNAL_SERVER_ERROR' });
    expect(JSON.stringify(res.body)).not.toContain('Secret');
    // The owner's own read needs no audit row and is unaffected.
    const own = await send(`query Mine { item(id: "${id}") { title } }`, alice);
    expect(own.body.data.item).toEqual({ title: 'Secret' });
  });
});

describe('concurrency', () => {
  it('50 concurrent updates of one item leave 50 rows forming one unbroken chain of changes', async () => {
    const id = await createItem(alice, 'v0');
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, n) =>
        send(`mutation Bump { updateItem(id: "${id}", input: {title: "v${n + 1}"}) { title } }`, alice),
      ),
    );
    expect(results.filter((res) => res.body.errors)).toEqual([]);

    const rows = await server.sql<StoredAuditRow[]>`
      select * from audit_logs where action = 'update_item' and resource_id = ${rawIdOf(id)} order by id`;
    expect(rows).toHaveLength(50);
    expect(new Set(rows.map((row) => row.request_id))).toEqual(new Set(results.map((res) => res.requestId)));
    // Row locks serialise the updates, so each change starts where the previous one ended.
    let title = 'v0';
    for (const row of rows) {
      expect(row.details.changes.title.from).toBe(title);
      title = row.details.changes.title.to;
    }
    expect(await server.sql`select title from items where id = ${rawIdOf(id)}`).toEqual([{ title }]);
  });
});
