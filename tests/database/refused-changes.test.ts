import { randomUUID } from 'node:crypto';
import { tracedRequest } from '../support/audit-rows';
import { expectFieldError, expectRequestError, INTERNAL_ERROR } from '../support/errors';
import { alice, startTestServer, type TestServer } from '../support/test-server';
import { itemId } from '../support/global-ids';

// A change the database refuses is an internal error: the client learns nothing, its `error` row
// says which kind of failure it was (the SQLSTATE), and the operator's log explains where it
// happened — but neither the row nor the log repeats the SQL's parameters or PostgreSQL's message
// and detail, which hold the item's contents ("Failing row contains (…)").

const logLines: string[] = [];
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({}, { log: { write: (line: string) => void logLines.push(line) } });
  await server.sql`alter table items add constraint no_forbidden_titles check (title not like 'forbidden%')`;
});
afterAll(() => server.stop());
beforeEach(() => {
  logLines.length = 0;
});

/** Values only this test knows, so finding one anywhere means it leaked there. */
const secret = (label: string) => `${label}-${randomUUID()}`;

/** One operation as alice; the request id the server gave it picks out its audit rows. */
const send = (query: string, variables: Record<string, unknown>) => tracedRequest(server, query, { as: alice, variables });

/** The logged `err` of the one line that reported the failure. */
function loggedError(): Record<string, any> {
  const errors = logLines.map((line) => JSON.parse(line)).filter((entry) => entry.err);
  expect(errors).toHaveLength(1);
  return errors[0].err;
}

it('a creation refused by a constraint: error row with name and SQLSTATE, log without its values', async () => {
  // A line that looks like a stack frame must not survive as one.
  const title = `forbidden ${secret('title')}\n    at ${secret('frame')} (x.js:1:1)`;
  const description = secret('description');

  const response = await send('mutation($t: String!, $d: String) { createItem(input: { title: $t, description: $d }) { id } }', {
    t: title,
    d: description,
  });

  expectFieldError(response, { path: 'createItem', ...INTERNAL_ERROR, data: null });
  expect((await response.rows()).map((row) => [row.action, row.outcome, row.details])).toEqual([
    ['create_item', 'error', { error: 'PostgresError', code: '23514' }],
  ]);
  const log = logLines.join('');
  expect(log).not.toContain(title.split('\n')[0]);
  expect(log).not.toContain(title.split('at ')[1]);
  expect(log).not.toContain(description);
  // What the operator still gets: which statement failed, where, and which constraint refused it.
  expect(loggedError()).toMatchObject({
    type: 'DrizzleQueryError',
    stack: expect.stringMatching(/^DrizzleQueryError\n\s+at [\s\S]*owned-records/),
    cause: { type: 'PostgresError', code: '23514', constraint_name: 'no_forbidden_titles', table_name: 'items' },
  });
});

it('an update refused by a constraint: neither the new title nor the row it would have written is logged', async () => {
  const description = secret('kept-description');
  const [row] = await server.sql`insert into items (owner_id, title, description) values ('alice', 'fine', ${description}) returning id`;
  const title = `forbidden ${secret('title')}`;

  const response = await send('mutation($id: ID!, $t: String) { updateItem(id: $id, input: { title: $t }) { id } }', {
    id: itemId(row!.id),
    t: title,
  });

  expectFieldError(response, { path: 'updateItem', ...INTERNAL_ERROR, data: null });
  expect((await response.rows()).map((audit) => [audit.action, audit.outcome, audit.details])).toEqual([
    ['update_item', 'error', { error: 'PostgresError', code: '23514' }],
  ]);
  const log = logLines.join('');
  expect(log).not.toContain(title);
  expect(log).not.toContain(description);
  expect(loggedError().cause).toMatchObject({ code: '23514', constraint_name: 'no_forbidden_titles' });
});

it('a change whose audit row is refused: the row (with the item snapshot) is not logged either', async () => {
  // PostgreSQL puts the refused row's values in its message here, as a trigger's RAISE may.
  await server.sql.unsafe(`
    create function refuse_item_rows() returns trigger language plpgsql as $$
    begin
      if new.action = 'create_item' and new.outcome = 'success' then
        raise exception 'refusing %', new.details using errcode = 'P0001', detail = new.details::text;
      end if;
      return new;
    end $$`);
  await server.sql`create trigger refuse_item_rows before insert on audit_logs for each row execute function refuse_item_rows()`;
  try {
    const title = secret('title');
    const response = await send('mutation($t: String!) { createItem(input: { title: $t }) { id } }', { t: title });

    expectFieldError(response, { path: 'createItem', ...INTERNAL_ERROR, data: null });
    expect((await response.rows()).map((audit) => [audit.action, audit.outcome, audit.details])).toEqual([
      ['create_item', 'error', { error: 'PostgresError', code: 'P0001' }],
    ]);
    expect(logLines.join('')).not.toContain(title);
    expect(loggedError().cause).toMatchObject({ type: 'PostgresError', code: 'P0001' });
  } finally {
    await server.sql`drop trigger refuse_item_rows on audit_logs`;
  }
});

it('a request whose failed logon cannot be recorded: the row (with its user agent) is not logged', async () => {
  await server.sql.unsafe(`
    create function refuse_logon_rows() returns trigger language plpgsql as $$
    begin
      if new.action = 'authenticate' then raise exception 'refusing %', new.user_agent; end if;
      return new;
    end $$`);
  await server.sql`create trigger refuse_logon_rows before insert on audit_logs for each row execute function refuse_logon_rows()`;
  try {
    const userAgent = secret('agent');
    const response = await server.graphql('{ me { id: userId } }', { as: 'not-a-token', headers: { 'user-agent': userAgent } });

    expectRequestError(response, { status: 500, ...INTERNAL_ERROR });
    expect(logLines.join('')).not.toContain(userAgent);
    // Apollo wraps it ("Context creation failed: " + the database's message); the wrapper's message goes too.
    expect(loggedError()).toMatchObject({ type: 'GraphQLError', cause: { type: 'DrizzleQueryError', cause: { code: 'P0001' } } });
    expect(loggedError()).not.toHaveProperty('message');
  } finally {
    await server.sql`drop trigger refuse_logon_rows on audit_logs`;
  }
});
