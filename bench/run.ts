/**
 * `npm run bench [-- --rounds 5 --seconds 5 --warmup 3 --connections 10]`: what the audit trail
 * costs, measured side by side in one run. It prints the cost of the audit middleware per
 * resolved field (in process), then, over HTTP against two servers built from the same code, one
 * with the trail ON and one with it OFF (`startServer(…, { audit: false })`):
 *
 * - P1: an admin lists 100 items of other users (target: ON reaches ≥ 0.80 of OFF's throughput);
 * - P2: an owner updates an item's title (target ≥ 0.85);
 * - P4: P2 with 32 writers, the trail ON on both sides and only the sealer ON or OFF (target ≥ 0.95);
 *   then how long rows waited for their seal (p99 ≤ 2 s), and how fast `--verify-rows` more rows
 *   are sealed and the whole trail verified (≥ 100,000 rows/s);
 * - P5: P2 with the trail ON on both sides and only the database's audit backstop ON or OFF
 *   (target ≥ 0.95: the backstop must not cost the API's writes).
 *
 * Each side stands on a fresh database of its own on the local PostgreSQL (`DATABASE_URL`, else
 * {@link DEFAULT_ADMIN_URL}), seeded alike and dropped at the end (`sides.ts`): one side's sealer
 * never seals the other's rows, and the audit-OFF side has no backstop to record its changes. The
 * embedded PGlite if no PostgreSQL answers. A missed
 * target still exits 0, since this is a report; failed requests or a broken setup exit 1.
 *
 * Modules under `src/` are imported as `#src/…` (package.json `imports`): TypeScript reads the
 * sources, Node loads the build in `dist/`, which is laid out without the `src/` level.
 */
import './production-mode';
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { connectDatabase } from '#src/db/database';
import { BENCHMARKS_DOC, writeBenchmarkFigures } from './benchmarks-doc';
import { DEFAULT_ADMIN_URL, createBenchDatabase } from './database';
import { startPair, type Compared, type Pair, type PairContext } from './sides';
import { compareSideBySide, type Comparison, type LoadPlan } from './load';
import { measureMiddlewareOverhead } from './micro';
import { sealAndVerify, sealLag, type SealAndVerify, type SealLag } from './integrity';
import { describeMachine, formatComparison, loadAverage, formatMicro, formatRun, markdownSummary } from './report';
import { scenarios, sendOnce, type Scenario } from './scenarios';
import { SEEDED_ITEMS, SEEDED_USERS, recordsAuditedBy, seedDatabase } from './seed';
import { benchSigningKey } from './servers';

const USAGE = 'usage: npm run bench [-- --rounds N --seconds S --warmup S --connections N --verify-rows N --only P1,P2,P4,P5]';

interface BenchPlan extends LoadPlan {
  /** Rows added, sealed and verified after P4. */
  readonly verifyRows: number;
  /** Scenario ids to run; all by default. */
  readonly only: readonly string[] | undefined;
}

function parsePlan(args: string[]): BenchPlan {
  const { values } = parseArgs({
    args,
    options: {
      rounds: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '10' },
      'verify-rows': { type: 'string', default: '200000' },
      only: { type: 'string' },
    },
  });
  const positive = (name: keyof typeof values) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer`);
    return value;
  };
  return {
    rounds: positive('rounds'),
    roundSeconds: positive('seconds'),
    warmupSeconds: positive('warmup'),
    connections: positive('connections'),
    verifyRows: positive('verify-rows'),
    only: values.only?.split(',').map((id) => id.trim().toUpperCase()),
  };
}

class UsageError extends Error {}

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
  const effective =
    `node dist/bench/run.js --rounds ${plan.rounds} --seconds ${plan.roundSeconds} --warmup ${plan.warmupSeconds} --connections ${plan.connections}` +
    ` --verify-rows ${plan.verifyRows}${plan.only ? ` --only ${plan.only.join(',')}` : ''}`;
  const typed = process.env.npm_lifecycle_event === 'bench' ? `npm run bench${argsSuffix()}` : `node dist/bench/run.js${argsSuffix(' ')}`;
  const machine = describeMachine();
  const log = (line = '') => process.stdout.write(`${line}\n`);

  log('Audit trail overhead benchmark');
  log(`  command : ${typed}   (effective: ${effective})`);
  log(`  machine : ${machine}`);

  log('\nMicro-benchmark: noting admin reads of a 1,000-item list, per resolved item field, in process (graphql.execute, no HTTP, no database)');
  const micro = await measureMiddlewareOverhead({ warmupMs: 1000, sliceMs: 400, rounds: 5 });
  formatMicro(micro).forEach((line) => log(line));

  // The fixture every side's database is seeded to match; this first one is only its template.
  const template = await createBenchDatabase(process.env.DATABASE_URL || DEFAULT_ADMIN_URL);
  cleanups.push(() => template.drop());
  const seeding = connectDatabase(template.url, { maxConnections: 1 });
  const jwtSecret = randomBytes(32).toString('base64url');
  const signingKey = benchSigningKey();
  const fixture = await seedDatabase(seeding, jwtSecret).finally(() => seeding.close());
  await template.drop();
  log(`\n  database: ${template.description.replace(/fresh database \S+/, 'a fresh database per side')}`);
  log(`  data    : ${SEEDED_ITEMS.toLocaleString('en-US')} items dealt to ${SEEDED_USERS} users; the admin owns none`);
  log(
    `  load    : autocannon, ${plan.connections} connections, pipelining 1; per scenario a ${plan.warmupSeconds} s warm-up per side, ` +
      `then ${plan.rounds} × ${plan.roundSeconds} s per side in alternating order; medians compared`,
  );
  log(`  servers : one Node process per side (NODE_ENV=production, pool of ${template.poolMax})`);

  const context: PairContext = { jwtSecret, signingKey, fixture, cleanups };
  const results: { scenario: Scenario; comparison: Comparison }[] = [];
  let sealing: { lag: SealLag; verify: SealAndVerify } | undefined;
  let pair: { compared: Compared; sides: Pair } | undefined;
  for (const scenario of scenarios(fixture).filter((candidate) => !plan.only || plan.only.includes(candidate.id))) {
    // P1 and P2 share their sides; each other comparison starts its own, once the last is released.
    if (pair?.compared !== scenario.compares) {
      await pair?.sides.release();
      pair = { compared: scenario.compares, sides: await startPair(scenario.compares, context) };
    }
    const sides = pair.sides;
    await checkSides(scenario, sides);
    log(`\n${scenario.id}: ${scenario.title} (target: ON >= ${scenario.target.toFixed(2)} x OFF)`);
    log(`  sides   : ${sides.description}`);
    const comparison = await compareSideBySide({ on: sides.on.target, off: sides.off.target }, scenario, { ...plan, connections: scenario.connections ?? plan.connections }, (round, target, stats) =>
      log(`  round ${round}  ${target.label.padEnd(12)} ${formatRun(stats)}`),
    );
    formatComparison(scenario, comparison).forEach((line) => log(line));
    results.push({ scenario, comparison });
    if (scenario.compares === 'sealer') {
      const lag = await sealLag(sides.on.direct, 'update_item');
      await expectOnlyOnSealed(sides);
      await sides.stop();
      pair = undefined;
      log(`  seal lag (row written to sealed, ${lag.rows.toLocaleString('en-US')} rows): p50 ${lag.p50Seconds.toFixed(2)} s, p99 ${lag.p99Seconds.toFixed(2)} s, max ${lag.maxSeconds.toFixed(2)} s  target p99 <= 2 s  ${lag.p99Seconds <= 2 ? 'PASS' : 'MISS'}`);
      const verify = await sealAndVerify(sides.on.direct, signingKey, plan.verifyRows);
      log(
        `  ${verify.rows.toLocaleString('en-US')} rows more, in seals of 2,000: sealed at ${Math.round(verify.sealRowsPerSecond).toLocaleString('en-US')} rows/s; ` +
          `the whole trail (${verify.verifiedRows.toLocaleString('en-US')} rows) verified at ${Math.round(verify.verifyRowsPerSecond).toLocaleString('en-US')} rows/s` +
          `  target >= 100,000 rows/s  ${verify.verifyRowsPerSecond >= 100_000 ? 'PASS' : 'MISS'}`,
      );
      sealing = { lag, verify };
      await sides.release();
    }
  }

  await cleanUp();
  const minutes = (performance.now() - startedAt) / 60_000;
  const summary = markdownSummary({ machine, database: template.description.replace(/fresh database \S+/, 'a fresh database per side'), command: typed, results, micro, sealing });
  log(`\nFinished in ${minutes.toFixed(1)} min (load average now: ${loadAverage()}).\n`);
  summary.forEach((line) => log(line));
  if (!plan.only) {
    await writeBenchmarkFigures([`Last run: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${minutes.toFixed(1)} min.`, '', ...summary]);
    log(`\nWritten to ${BENCHMARKS_DOC}.`);
  }
}

/** Proves the P4 sides differ in sealing only: both wrote rows, only the ON side's are sealed. */
async function expectOnlyOnSealed(sides: Pair): Promise<void> {
  for (const [side, sealed] of [[sides.on, true], [sides.off, false]] as const) {
    const [row] = await side.direct.sql<{ rows: number; seals: number }[]>`
      select (select count(*)::int from audit_logs where action = 'update_item') as rows, (select count(*)::int from audit_seals) as seals`;
    if (row!.rows === 0 || (row!.seals > 0) !== sealed) throw new Error(`P4: ${side.server.label} wrote ${row!.rows} rows and ${row!.seals} seals`);
  }
}

/**
 * Before measuring, proves the sides differ only in what they compare: one request of `scenario`
 * leaves audit rows naming every record it touched on each side that audits and none on the
 * other, and no side's database records the API's change a second time (backstop rows name no
 * request: each side holds exactly as many change rows as the API wrote).
 */
async function checkSides(scenario: Scenario, sides: Pair): Promise<void> {
  for (const side of [sides.on, sides.off]) {
    const { requestId } = await sendOnce(scenario, side.server);
    const records = await recordsAuditedBy(side.direct, requestId);
    const expected = side.spec.audit ? scenario.recordsAuditedPerRequest : 0;
    if (records !== expected) throw new Error(`${scenario.id} against ${side.server.label} left audit rows naming ${records} records, expected ${expected}`);
    const [outside] = await side.direct.sql<{ rows: number }[]>`
      select count(*)::int as rows from audit_logs where details ? 'database' and action <> 'create_item'`;
    if (outside!.rows !== 0) throw new Error(`${scenario.id} against ${side.server.label}: its database recorded ${outside!.rows} changes outside the API`);
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
