import { sql as drizzleSql } from 'drizzle-orm';
import { ConfigError, loadConfig } from '../../src/config/config';
import { connectDatabase } from '../../src/db/database';
import { createTestDatabase } from '../support/database';
import { expectTrailMatchesItems, uncleanAnswers } from '../support/mixed-load';
import { admin, alice, startTestServer, type GraphQLResponse, type TestServer } from '../support/test-server';
import { rootError } from '../../src/core/failure';

/**
 * Bounded waits: the serving connections carry `statement_timeout`, `lock_timeout` and
 * `idle_in_transaction_session_timeout` (DATABASE_*_MS), so a lock held on `audit_logs` by someone
 * else fails audited requests promptly instead of hanging them and exhausting the pool.
 * Needs a real PostgreSQL (DATABASE_URL): the embedded one ignores these settings.
 */

jest.setTimeout(60_000);

/** Far longer than any limit set here: a request still unanswered by then is hanging on the lock. */
const HANG_MS = 15_000;
const AUDITED_REQUESTS = 14; // more than the pool's 10 connections

describe('timeout settings', () => {
  it('default to 10 s per statement, 2 s per lock wait and 30 s idle in a transaction', () => {
    expect(loadConfig({}).databaseTimeouts).toEqual({ statementTimeoutMs: 10_000, lockTimeoutMs: 2_000, idleInTransactionSessionTimeoutMs: 30_000 });
  });

  it('are read from DATABASE_*_MS, where 0 turns a limit off', () => {
    const env = { DATABASE_STATEMENT_TIMEOUT_MS: '0', DATABASE_LOCK_TIMEOUT_MS: '250', DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '60000' };
    expect(loadConfig(env).databaseTimeouts).toEqual({ statementTimeoutMs: 0, lockTimeoutMs: 250, idleInTransactionSessionTimeoutMs: 60_000 });
  });

  it.each(['-1', '1.5', 'ten', '2147483648'])('refuse DATABASE_LOCK_TIMEOUT_MS=%s', (value) => {
    expect(() => loadConfig({ DATABASE_LOCK_TIMEOUT_MS: value })).toThrow(ConfigError);
  });
});

const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;

/** `promise`'s value, or 'still waiting' if it has not settled within {@link HANG_MS}. */
async function unlessHanging<T>(promise: Promise<T>): Promise<T | 'still waiting'> {
  let timer: NodeJS.Timeout | undefined;
  const hanging = new Promise<'still waiting'>((resolve) => (timer = setTimeout(() => resolve('still waiting'), HANG_MS)));
  try {
    return await Promise.race([promise, hanging]);
  } finally {
    clearTimeout(timer);
  }
}

describeOnPostgres('serving connections', () => {
  it('carry the configured limits, and a stalled transaction is ended and its connection replaced', async () => {
    const database = await createTestDatabase();
    const env = { DATABASE_STATEMENT_TIMEOUT_MS: '4000', DATABASE_LOCK_TIMEOUT_MS: '3000', DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '300' };
    const { db, close } = connectDatabase(database.url, { maxConnections: 1, timeouts: loadConfig(env).databaseTimeouts });
    try {
      const settings = await db.execute(drizzleSql`
        select current_setting('statement_timeout') as statement, current_setting('lock_timeout') as lock,
               current_setting('idle_in_transaction_session_timeout') as idle`);
      expect([...settings]).toEqual([{ statement: '4s', lock: '3s', idle: '300ms' }]);

      const stalled = db.transaction(async (tx) => {
        await tx.execute(drizzleSql`select 1`);
        await new Promise((resolve) => setTimeout(resolve, 1_000)); // idle in transaction
        await tx.execute(drizzleSql`select 2`);
      });
      // PostgreSQL ends the session for idling in its transaction (300 ms, well before the second
      // statement): the client sees its connection closed, not a statement refused or timed out.
      const failure = await stalled.then(
        () => undefined,
        (error: unknown) => rootError(error),
      );
      expect(failure).toMatchObject({ code: 'CONNECTION_CLOSED' });
      expect([...(await db.execute(drizzleSql`select 3 as three`))]).toEqual([{ three: 3 }]);
    } finally {
      await close();
      await database.drop();
    }
  });
});

describeOnPostgres.each([
  ['lock_timeout', { DATABASE_LOCK_TIMEOUT_MS: '300' }],
  ['statement_timeout', { DATABASE_LOCK_TIMEOUT_MS: '0', DATABASE_STATEMENT_TIMEOUT_MS: '300' }],
])('with %s, while another session holds an exclusive lock on audit_logs', (_limit, env) => {
  let server: TestServer;
  let itemId: string;

  beforeAll(async () => {
    server = await startTestServer(env);
    const created = await server.graphql('mutation { createItem(input: {title: "before the lock"}) { id } }', { as: alice });
    itemId = created.body.data.createItem.id;
  });
  afterAll(() => server.stop());

  const update = (title: string) => server.graphql(`mutation { updateItem(id: "${itemId}", input: {title: "${title}"}) { title } }`, { as: alice });
  const adminList = () => server.graphql('{ items(first: 5) { nodes { title } } }', { as: admin });
  const ownList = () => server.graphql('{ items(first: 5) { nodes { title } } }', { as: alice });

  it('fails audited requests cleanly instead of hanging, keeps serving the rest, and recovers once the lock is gone', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = server.sql.begin(async (tx) => {
      await tx`lock table audit_logs in access exclusive mode`;
      locked();
      await released;
    });
    await isLocked;

    let answers: GraphQLResponse[] | 'still waiting';
    try {
      const audited = Array.from({ length: AUDITED_REQUESTS }, (_, n) => (n % 2 === 0 ? update(`during the lock ${n}`) : adminList()));
      const unaudited = ownList(); // an owner's own items: no audit row, so only a free connection is needed
      const all = Promise.all([...audited, unaudited]);
      answers = await unlessHanging(all);
    } finally {
      release();
      await holder;
    }

    expect(answers).not.toBe('still waiting');
    const responses = answers as GraphQLResponse[];
    const ownItems = responses.pop()!;
    expect(ownItems.body).toEqual({ data: { items: { nodes: [{ title: 'before the lock' }] } } });
    for (const response of responses) {
      expect(response.body.errors).toHaveLength(1);
      expect(uncleanAnswers(response.status, response.body)).toEqual([]);
    }

    expect((await update('after the lock')).body).toEqual({ data: { updateItem: { title: 'after the lock' } } });
    expect((await adminList()).body.errors).toBeUndefined();
    await expectTrailMatchesItems(server.sql);
  });
});
