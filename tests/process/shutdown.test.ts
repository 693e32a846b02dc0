import 'reflect-metadata';
import pino from 'pino';
import postgres from 'postgres';
import { signToken } from '../../src/auth/token-signer';
import { loadConfig } from '../../src/config/config';
import { startServer, type Server } from '../../src/server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { graphql } from '../support/graphql-http';
import { rawIdOf } from '../support/global-ids';
import { TEST_JWT_SECRET, testServerEnv } from '../support/test-server';

/**
 * What SIGTERM does (main.ts calls Server.stop): stop accepting, let in-flight requests finish,
 * then close the pool. A request is kept in flight by holding a lock on the row it updates.
 */

let database: TestDatabase;
let server: Server;
let sql: postgres.Sql;

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startServer(loadConfig(testServerEnv(database)), pino({ level: 'silent' }));
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
  await sql.end();
  await database.drop();
});

it('finishes a request in flight, refuses new connections, then stops', async () => {
  const token = await signToken(TEST_JWT_SECRET, { sub: 'alice' });
  const created = await graphql(`${server.url}/graphql`, token, 'mutation { createItem(input: {title: "before"}) { id } }');
  const id: string = created.body.data.createItem.id;

  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const lockTaken = new Promise<void>((resolve) => (locked = resolve));
  const holder = sql.begin(async (tx) => {
    await tx`select id from items where id = ${rawIdOf(id)} for update`;
    locked();
    await held;
  });
  await lockTaken;

  const inFlight = graphql(`${server.url}/graphql`, token, `mutation { updateItem(id: "${id}", input: {title: "after"}) { title } }`);
  // Give the update time to reach the server and block on the lock (pg_locks cannot be polled
  // here: the embedded database serialises every connection behind the holder's transaction).
  await new Promise((resolve) => setTimeout(resolve, 500));

  let stopped = false;
  const stopping = server.stop().then(() => (stopped = true));
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(stopped).toBe(false);
  await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();

  release();
  await holder;
  expect(await inFlight).toEqual({ status: 200, body: { data: { updateItem: { title: 'after' } } } });
  await stopping;
  expect(stopped).toBe(true);
  expect(await sql`select title from items where id = ${rawIdOf(id)}`).toEqual([{ title: 'after' }]);
});
