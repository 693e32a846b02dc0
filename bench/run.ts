/**
 * `npm run bench [-- --rounds 5 --seconds 5 --warmup 3 --connections 10]`: what the audit trail
 * costs, measured side by side in one run. It prints the cost of the audit middleware per
 * resolved field (in process), then, over HTTP against two servers built from the same code, one
 * with the trail ON and one with it OFF (`startServer(…, { audit: false })`):
 *
 * - P1: an admin lists 100 items of other users (target: ON reaches ≥ 0.90 of OFF's throughput);
 * - P2: an owner updates an item's title (target ≥ 0.80).
 *
 * The database is a fresh one on the local PostgreSQL (`DATABASE_URL`, else
 * {@link DEFAULT_ADMIN_URL}), dropped at the end; the embedded PGlite if none answers. A missed
 * target still exits 0, since this is a report; failed requests or a broken setup exit 1.
 *
 * Modules under `src/` are imported as `#src/…` (package.json `imports`): TypeScript reads the
 * sources, Node loads the build in `dist/`, which is laid out without the `src/` level.
 */
import './production-mode';
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { connectDatabase, type Database } from '#src/db/database';
import { DEFAULT_ADMIN_URL, createBenchDatabase } from './database';
import { compareSideBySide, type Comparison, type LoadPlan } from './load';
import { measureMiddlewareOverhead } from './micro';
import { describeMachine, formatComparison, loadAverage, formatMicro, formatRun, markdownSummary } from './report';
import { scenarios, sendOnce, type Scenario } from './scenarios';
import { SEEDED_ITEMS, SEEDED_USERS, recordsAuditedBy, seedDatabase } from './seed';
import { startBenchServer, type BenchServer } from './servers';

const USAGE = 'usage: npm run bench [-- --rounds N --seconds S --warmup S --connections N]';

function parsePlan(args: string[]): LoadPlan {
  const { values } = parseArgs({
    args,
    options: {
      rounds: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '10' },
    },
  });
  const positive = (name: keyof typeof values) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer`);
    return value;
  };
  return { rounds: positive('rounds'), roundSeconds: positive('seconds'), warmupSeconds: positive('warmup'), connections: positive('connections') };
}

class UsageError extends Error {}

/** The same API with the audit trail ON and OFF. */
interface Sides {
  readonly on: BenchServer;
  readonly off: BenchServer;
}

/** Undone in reverse order at the end, on failure and on Ctrl-C. */
const cleanups: (() => Promise<void>)[] = [];

async function cleanUp(): Promise<void> {
  for (let cleanup = cleanups.pop(); cleanup; cleanup = cleanups.pop()) {
    await cleanup().catch((error: unknown) => console.error(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`));
  }
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  const plan = parsePlan(process.argv.slice(2));
  const effective = `node dist/bench/run.js --rounds ${plan.rounds} --seconds ${plan.roundSeconds} --warmup ${plan.warmupSeconds} --connections ${plan.connections}`;
  const typed = process.env.npm_lifecycle_event === 'bench' ? `npm run bench${argsSuffix()}` : `node dist/bench/run.js${argsSuffix(' ')}`;
  const machine = describeMachine();
  const log = (line = '') => process.stdout.write(`${line}\n`);

  log('Audit trail overhead benchmark');
  log(`  command : ${typed}   (effective: ${effective})`);
  log(`  machine : ${machine}`);

  log('\nMicro-benchmark: noting admin reads of a 1,000-item list, per resolved item field, in process (graphql.execute, no HTTP, no database)');
  const micro = await measureMiddlewareOverhead({ warmupMs: 1000, sliceMs: 400, rounds: 5 });
  formatMicro(micro).forEach((line) => log(line));

  const database = await createBenchDatabase(process.env.DATABASE_URL || DEFAULT_ADMIN_URL);
  cleanups.push(() => database.drop());
  log(`\n  database: ${database.description}`);
  const direct = connectDatabase(database.url, { maxConnections: 1 });
  cleanups.push(() => direct.close());
  const jwtSecret = randomBytes(32).toString('base64url');
  const fixture = await seedDatabase(direct, jwtSecret);
  log(`  data    : ${SEEDED_ITEMS.toLocaleString('en-US')} items dealt to ${SEEDED_USERS} users; the admin owns none`);
  log(
    `  load    : autocannon, ${plan.connections} connections, pipelining 1; per scenario a ${plan.warmupSeconds} s warm-up per side, ` +
      `then ${plan.rounds} × ${plan.roundSeconds} s per side in alternating order; medians compared`,
  );

  const serving = await database.servingUrl();
  const startSide = async (audit: boolean) => {
    const server = await startBenchServer({
      audit,
      databaseUrl: serving.url,
      checkServingRole: serving.checked,
      poolMax: database.poolMax,
      jwtSecret,
    });
    cleanups.push(() => server.stop());
    return server;
  };
  const servers: Sides = { on: await startSide(true), off: await startSide(false) };
  log(`  servers : one Node process per side (NODE_ENV=production, pool of ${database.poolMax}): ${servers.on.label} ${servers.on.url}, ${servers.off.label} ${servers.off.url}`);

  const results: { scenario: Scenario; comparison: Comparison }[] = [];
  for (const scenario of scenarios(fixture)) {
    await checkAuditRows(scenario, servers, direct);
    log(`\n${scenario.id}: ${scenario.title} (target: ON >= ${scenario.target.toFixed(2)} x OFF)`);
    const comparison = await compareSideBySide(servers, scenario, plan, (round, target, stats) =>
      log(`  round ${round}  ${target.label.padEnd(9)} ${formatRun(stats)}`),
    );
    formatComparison(scenario, comparison).forEach((line) => log(line));
    results.push({ scenario, comparison });
  }

  await cleanUp();
  const minutes = (performance.now() - startedAt) / 60_000;
  log(`\nFinished in ${minutes.toFixed(1)} min (load average now: ${loadAverage()}). Markdown for the README:\n`);
  markdownSummary({ machine, database: database.description, command: typed, results, micro }).forEach((line) => log(line));
}

/**
 * Before measuring, proves the two servers differ only in auditing: one request of `scenario`
 * leaves audit rows naming every record it touched with the trail ON, and none with it OFF.
 */
async function checkAuditRows(scenario: Scenario, servers: Sides, direct: Database): Promise<void> {
  for (const side of ['on', 'off'] as const) {
    const { requestId } = await sendOnce(scenario, servers[side]);
    const records = await recordsAuditedBy(direct, requestId);
    const expected = side === 'on' ? scenario.recordsAuditedPerRequest : 0;
    if (records !== expected) {
      throw new Error(`${scenario.id} against ${servers[side].label} left audit rows naming ${records} records, expected ${expected}`);
    }
  }
}

function argsSuffix(separator = ' -- '): string {
  const args = process.argv.slice(2);
  return args.length > 0 ? `${separator}${args.join(' ')}` : '';
}

let interrupted = false;
process.once('SIGINT', () => {
  interrupted = true;
  process.stderr.write('\ninterrupted: stopping the servers and dropping the database\n');
  void cleanUp().finally(() => process.exit(130));
});

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    if (interrupted) return; // the SIGINT handler is cleaning up and exits 130
    await cleanUp();
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
