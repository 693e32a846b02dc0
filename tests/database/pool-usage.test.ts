import { sql as drizzleSql } from 'drizzle-orm';
import { connectDatabase, type Database } from '../../src/db/database';
import { createTestDatabase, type TestDatabase } from '../support/database';

/*
 * The pool's usage as /metrics reports it (db_pool_*), counted by a wrapper around postgres.js
 * that relies on how a query starts (src/db/pool-usage.ts). Against a real database: each query
 * here has to answer over the network, so what is in flight is seen before it does.
 */

let testDatabase: TestDatabase;
let database: Database;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = connectDatabase(testDatabase.url, { maxConnections: testDatabase.embedded ? 1 : 2 });
});
afterAll(async () => {
  await database?.close();
  await testDatabase?.drop();
});

/** Lets microtasks run (no I/O) until `condition` holds: a query cannot answer in the meantime. */
async function untilSent(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1000 && !condition(); turn++) await Promise.resolve();
  expect(condition()).toBe(true);
}

it('counts a query from when it runs until it answers', async () => {
  const answer = database.sql`select 1 as one`.then((rows) => rows[0]);
  expect(database.poolUsage()).toEqual({ queriesInFlight: 1, transactionsOpen: 0 });
  await expect(answer).resolves.toEqual({ one: 1 });
  expect(database.poolUsage()).toEqual({ queriesInFlight: 0, transactionsOpen: 0 });
});

it("counts Drizzle's queries, and a failed query until it fails", async () => {
  // Drizzle's queries run when awaited, as the services await them.
  const answers = [drizzleSql`select 1`, drizzleSql`select 1 / 0`].map(async (query) => database.db.execute(query));
  await untilSent(() => database.poolUsage().queriesInFlight === 2);
  const [ok, failed] = await Promise.allSettled(answers);
  expect([ok!.status, failed!.status]).toEqual(['fulfilled', 'rejected']);
  expect(database.poolUsage()).toEqual({ queriesInFlight: 0, transactionsOpen: 0 });
});

it('counts a transaction, not the statements inside it, until it ends', async () => {
  const inside: unknown[] = [];
  await database.db.transaction(async (tx) => {
    inside.push(database.poolUsage());
    await tx.execute(drizzleSql`select 1`);
    inside.push(database.poolUsage());
  });
  expect(inside).toEqual([
    { queriesInFlight: 0, transactionsOpen: 1 },
    { queriesInFlight: 0, transactionsOpen: 1 },
  ]);
  expect(database.poolUsage()).toEqual({ queriesInFlight: 0, transactionsOpen: 0 });

  await expect(
    database.db.transaction(async (tx) => {
      await tx.execute(drizzleSql`select 1 / 0`);
    }),
  ).rejects.toThrow();
  expect(database.poolUsage()).toEqual({ queriesInFlight: 0, transactionsOpen: 0 });
});

it('does not count a query used only as a fragment of another, which never runs', async () => {
  const fragment = database.sql`1 + 1`;
  await expect(database.sql`select ${fragment} as two`.then((rows) => rows[0])).resolves.toEqual({ two: 2 });
  expect(database.poolUsage()).toEqual({ queriesInFlight: 0, transactionsOpen: 0 });
});
