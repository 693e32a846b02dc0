/**
 * `npm run bench:history [-- --versions 10000 --runs 200]`: an item's past, rebuilt from the trail,
 * through HTTP against a production-mode server (audit ON, serving role).
 *
 * On a fresh database seeded with 1,000 items ({@link seedDatabase}), one item is changed
 * `--versions` − 1 times through the API, each change followed by one of another item (so the
 * item's rows lie spread over the trail among others', as they would), eight requests in flight.
 * Then, one client, as its owner (so no read row is written): the server's first `item(id:, asOf:)`
 * of it, which reads and replays every version; then p50 / p95 over `--runs` of `item(id:, asOf:)`
 * at random instants of its life and at its last version, and of the first page of
 * `history(id:)`, which read the live row and the versions written since (none) and check one
 * against the other, the history being kept replayed by the server (`VersionCache`).
 */
import './production-mode';
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { decodeGlobalId } from '#src/api/global-id';
import { connectDatabase } from '#src/db/database';
import { createBenchDatabase, DEFAULT_ADMIN_URL } from './database';
import { describeMachine } from './report';
import { seedDatabase } from './seed';
import { benchSigningKey, startBenchServer, type BenchServer } from './servers';
import { percentile } from './stats';

const log = (line = '') => process.stdout.write(`${line}\n`);
/** Requests in flight while the history is written: the item's own changes queue on its row lock. */
const WRITERS = 8;
/** What p95 must stay within for an item with 10,000 versions. */
const TARGET_P95_MS = 50;

/** POSTs one GraphQL request as `token`; throws on an HTTP error or GraphQL errors. */
async function graphql(server: BenchServer, token: string, query: string, variables: Record<string, unknown>): Promise<any> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: unknown; errors?: unknown[] };
  if (!response.ok || body.errors) throw new Error(`HTTP ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
  return body.data;
}

/** Milliseconds of each of `runs` calls of `work(n)`, after one warm-up, sorted ascending. */
async function timings(runs: number, work: (n: number) => Promise<unknown>): Promise<number[]> {
  await work(0);
  const times: number[] = [];
  for (let n = 0; n < runs; n++) {
    const start = performance.now();
    await work(n);
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

const p50p95 = (sorted: number[]) => `${percentile(sorted, 0.5).toFixed(1)} / ${percentile(sorted, 0.95).toFixed(1)}`;

const UPDATE = 'mutation BenchUpdate($id: ID!, $title: String!) { updateItem(id: $id, input: { title: $title }) { id } }';
const AS_OF = 'query BenchAsOf($id: ID!, $asOf: DateTimeISO!) { item(id: $id, asOf: $asOf) { id title description updatedAt } }';
const HISTORY = 'query BenchHistory($id: ID!) { history(id: $id, first: 20) { nodes { timestamp action userId source changedFields } pageInfo { endCursor } } }';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { versions: { type: 'string', default: '10000' }, runs: { type: 'string', default: '200' } } });
  const versions = Number(values.versions);
  const runs = Number(values.runs);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const database = await createBenchDatabase(process.env.DATABASE_URL || DEFAULT_ADMIN_URL);
    cleanups.push(() => database.drop());
    const direct = connectDatabase(database.url, { maxConnections: 1 });
    cleanups.push(() => direct.close());
    const jwtSecret = randomBytes(32).toString('base64url');
    const fixture = await seedDatabase(direct, jwtSecret);
    const serving = await database.servingUrl();
    const server = await startBenchServer({ audit: true, seal: false, backstop: true, signingKey: benchSigningKey(), databaseUrl: serving.url, checkServingRole: serving.checked, poolMax: database.poolMax, jwtSecret });
    cleanups.push(() => server.stop());
    log(`History of an item with ${versions.toLocaleString('en-US')} versions`);
    log(`  machine : ${describeMachine()}`);
    log(`  database: ${database.description}`);
    log(`  server  : NODE_ENV=production, serving role, pool of ${database.poolMax}, audit ON ${server.url}`);

    const others = fixture.ownItemIds;
    const owner = fixture.ownerToken;
    const writeStart = performance.now();
    let next = 0;
    // Created through the API (the seed's items have no creation row, so no state to rebuild).
    const target: string = (await graphql(server, owner, 'mutation { createItem(input: { title: "start" }) { id } }', {})).createItem.id;
    const tracked = decodeGlobalId(target, 'id').key;
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        for (let n = next++; n < versions - 1; n = next++) {
          await graphql(server, owner, UPDATE, { id: target, title: `version ${n + 1}` });
          await graphql(server, owner, UPDATE, { id: others[n % others.length]!, title: `noise ${n}` });
        }
      }),
    );
    await direct.sql`vacuum analyze audit_logs`;
    const [row] = await direct.sql<{ first: string; last: string; rows: number }[]>`
      select min(occurred_at)::text as first, max(occurred_at)::text as last, count(*)::int as rows from audit_logs where resource_id = ${tracked}`;
    const span = { first: new Date(row!.first), last: new Date(row!.last), rows: row!.rows };
    log(`  written : ${span.rows.toLocaleString('en-US')} versions of the item, and as many of others, in ${((performance.now() - writeStart) / 1000).toFixed(0)} s`);

    const life = span.last.getTime() - span.first.getTime();
    const instants = Array.from({ length: runs + 1 }, () => new Date(span.first.getTime() + Math.random() * life).toISOString());
    // The server has not read this history yet: the first read fetches and replays every version.
    const coldStart = performance.now();
    await graphql(server, owner, AS_OF, { id: target, asOf: instants[runs] });
    const cold = performance.now() - coldStart;
    const random = await timings(runs, (n) => graphql(server, owner, AS_OF, { id: target, asOf: instants[n] }));
    const latest = await timings(runs, () => graphql(server, owner, AS_OF, { id: target, asOf: span.last.toISOString() }));
    const history = await timings(runs, () => graphql(server, owner, HISTORY, { id: target }));
    log(`\n  HTTP, one client, ${runs} requests each, p50 / p95 ms:`);
    log('\n| Query | p50 / p95 ms |');
    log('| --- | ---: |');
    log(`| item(id:, asOf:), the server's first read of the history (1 request) | ${cold.toFixed(1)} |`);
    log(`| item(id:, asOf:) at random instants | ${p50p95(random)} |`);
    log(`| item(id:, asOf:) at the last version | ${p50p95(latest)} |`);
    log(`| history(id:, first: 20) | ${p50p95(history)} |`);
    const p95 = percentile(random, 0.95);
    log(`\n  asOf p95 ${p95.toFixed(1)} ms: ${p95 <= TARGET_P95_MS ? 'PASS' : 'MISS'} (target ${TARGET_P95_MS} ms for 10,000 versions)`);
  } finally {
    for (let cleanup = cleanups.pop(); cleanup; cleanup = cleanups.pop()) await cleanup().catch(() => {});
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`history benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
