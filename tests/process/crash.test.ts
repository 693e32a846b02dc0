import { signToken } from '../../src/auth/token-signer';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { graphql } from '../support/graphql-http';
import { killAll, startApi, type RunningApi } from '../support/node-process';
import { TEST_JWT_SECRET, testServerEnv } from '../support/test-server';

/**
 * kill -9 of the server while updates are in flight: every committed change must have exactly its
 * audit row, and no row may describe a change that did not commit.
 */

jest.setTimeout(120_000);

const ITEMS = 8;
const WRITERS = 16;
const ROUNDS = 3;

let database: TestDatabase;
let token: string;
let api: RunningApi | undefined;

beforeAll(async () => {
  // Migrated already: each start (four of them) then only checks the migrations are there.
  database = await createTestDatabase({ migrated: true });
  token = await signToken(TEST_JWT_SECRET, { sub: 'alice' });
});
afterAll(async () => {
  killAll();
  await database.drop();
});

function startServer(): Promise<RunningApi> {
  return startApi(testServerEnv(database));
}

/** Updates answered with data, so committed: how far the writers got. */
let answeredUpdates = 0;

/** Keeps `WRITERS` clients updating items with unique titles until the server dies. */
function updateUntilDown(url: string, ids: string[], round: number): Promise<void>[] {
  return Array.from({ length: WRITERS }, async (_, writer) => {
    for (let n = 0; ; n++) {
      const id = ids[(writer + n) % ids.length];
      try {
        const { body } = await graphql(url, token, `mutation { updateItem(id: "${id}", input: {title: "r${round}-w${writer}-n${n}"}) { id } }`);
        if (body.data?.updateItem) answeredUpdates++;
      } catch {
        return; // connection refused or reset: the server is gone
      }
    }
  });
}

it('never leaves a committed change without its row, or a row without its change', async () => {
  api = await startServer();
  const ids: string[] = [];
  for (let n = 0; n < ITEMS; n++) {
    const { body } = await graphql(api.url, token, `mutation { createItem(input: {title: "initial-${n}"}) { id } }`);
    ids.push(body.data.createItem.id);
  }

  for (let round = 0; round < ROUNDS; round++) {
    api ??= await startServer();
    const before = answeredUpdates;
    const writers = updateUntilDown(api.url, ids, round);
    // Kill mid-stream, once some updates of this round committed, however loaded the machine is.
    // (Counted from the answers: the embedded database takes no second connection while the server runs.)
    while (answeredUpdates < before + 10 * (round + 1)) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 50 * round));
    api.proc.child.kill('SIGKILL');
    await api.proc.exited;
    api = undefined;
    await Promise.all(writers);
  }

  api = await startServer(); // the database must be consistent for the next start, too
  const { default: postgres } = await import('postgres');
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    const items = await sql<{ id: string; title: string }[]>`select id::text, title from items order by id`;
    const rows = await sql<{ resource_id: string; details: { changes: { title: { from: string; to: string } } } }[]>`
      select resource_id, details from audit_logs where action = 'update_item' and outcome = 'success' order by id`;
    expect(rows.length).toBeGreaterThan(0);
    for (const [n, item] of items.entries()) {
      // Replaying the rows must lead from the initial title to the committed one, link by link.
      let title = `initial-${n}`;
      for (const row of rows.filter((r) => r.resource_id === item.id)) {
        expect(row.details.changes.title.from).toBe(title);
        title = row.details.changes.title.to;
      }
      expect(item.title).toBe(title);
    }
    const [created] = await sql`select count(*)::int as n from audit_logs where action = 'create_item' and outcome = 'success'`;
    expect(created).toEqual({ n: ITEMS });
  } finally {
    await sql.end();
  }
});
