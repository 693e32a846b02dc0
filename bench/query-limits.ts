/**
 * `npm run bench:limits`: what a refused hostile document costs the server. Starts the API
 * (NODE_ENV=production, audit trail ON) in its own process on a fresh database of the local
 * PostgreSQL (`DATABASE_URL`, else {@link DEFAULT_ADMIN_URL}) seeded with 1,000 items, then sends
 * each attack of issue 7 as an admin who may read every item, one request at a time, and reports
 * per request: the server's CPU time, how far its resident memory peaked above where it started,
 * and the client-side latency (which includes committing the `query_refused` audit row and
 * whatever else the machine is doing). Targets for a refusal: under 50 ms of server CPU and under
 * 20 MB of memory. An ordinary 100-item page is measured alongside.
 *
 * Exits 1 if an attack is not refused with HTTP 400 and `QUERY_TOO_COMPLEX`; a missed target is
 * reported, not fatal, since this is a measurement.
 */
import './production-mode';
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { connectDatabase } from '#src/db/database';
import { DEFAULT_ADMIN_URL, createBenchDatabase } from './database';
import { describeMachine } from './report';
import { BENCH_ACCESS_REASON, seedDatabase } from './seed';
import { benchSigningKey, startBenchServer, type BenchServer } from './servers';
import { memoryMb, resetPeak } from './process-memory';
import { median } from './stats';

const REQUESTS = 20;
const WARMUP = 3;
const TARGET_MS = 50;
const TARGET_MB = 20;

const range = (count: number) => Array.from({ length: count }, (_, index) => index);

function fragmentBomb(width: number): string {
  const spreads = range(width).map((n) => `n${n}:nodes{...F}`).join(' ');
  const fields = range(width).map((n) => `d${n}:description`).join(' ');
  return `{ items(first:100){ ${spreads} } } fragment F on Item { ${fields} }`;
}

interface Case {
  readonly name: string;
  readonly query: string;
  /** `undefined` for the ordinary query, which must succeed. */
  readonly refusedBy?: string;
}

const AUDIT_LOG_FIELDS = 'id timestamp userId userRole action resourceType resourceId outcome adminBypass details requestId operationName ip userAgent';

const CASES: Case[] = [
  { name: 'ordinary: admin lists 100 items, 6 fields', query: '{ items(first: 100) { nodes { id title description ownerId createdAt updatedAt } } }' },
  { name: 'fragment bomb 100 × 100 (3.2 KB)', query: fragmentBomb(100), refusedBy: 'maxRecursiveSelections' },
  { name: 'fragment bomb 200 × 200', query: fragmentBomb(200), refusedBy: 'maxTokens' },
  {
    name: '30 fragments each spreading the next twice (2^30 selections)',
    query: `{ ...F0 } ${range(30).map((n) => `fragment F${n} on Query { ...F${n + 1} ...F${n + 1} }`).join(' ')} fragment F30 on Query { me { id } }`,
    refusedBy: 'maxRecursiveSelections',
  },
  { name: '1,000 aliases of items(first: 100)', query: `{ ${range(1000).map((n) => `a${n}: items(first: 100) { nodes { id title } }`).join(' ')} }`, refusedBy: 'maxTokens' },
  {
    name: '20,000 chained fragments',
    query: `{ ...F0 } ${range(20000).map((n) => `fragment F${n} on Query { ...F${n + 1} }`).join(' ')} fragment F20000 on Query { __typename }`,
    refusedBy: 'maxTokens',
  },
  { name: '10,000 nested selection sets', query: `{ ${'me { '.repeat(10000)}id${' }'.repeat(10000)} }`, refusedBy: 'maxTokens' },
  { name: '1 MB of aliases (the largest body accepted)', query: `{ ${range(70000).map((n) => `a${n}:me{id}`).join(' ')} }`, refusedBy: 'maxTokens' },
  { name: '31 aliases of me', query: `{ ${range(31).map((n) => `a${n}: me { id }`).join(' ')} }`, refusedBy: 'maxAliases' },
  {
    name: 'four pages of 200 audit entries, every field',
    query: `{ ${range(4).map((n) => `p${n}: auditLogs(first: 200) { nodes { ${AUDIT_LOG_FIELDS} } }`).join(' ')} }`,
    refusedBy: 'maxCost',
  },
];

interface Measurement {
  readonly name: string;
  readonly bodyBytes: number;
  readonly answer: string;
  readonly medianMs: number;
  readonly maxMs: number;
  readonly cpuMsPerRequest: number | undefined;
  readonly peakGrowthMb: number | undefined;
}

async function send(server: BenchServer, token: string, body: string): Promise<{ ms: number; status: number; text: string }> {
  const started = performance.now();
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...BENCH_ACCESS_REASON },
    body,
  });
  const text = await response.text();
  return { ms: performance.now() - started, status: response.status, text };
}

async function measure(server: BenchServer, token: string, testCase: Case): Promise<Measurement> {
  const body = JSON.stringify({ query: testCase.query });
  let answer = '';
  for (let warm = 0; warm < WARMUP; warm++) {
    const { status, text } = await send(server, token, body);
    const parsed = JSON.parse(text) as { errors?: { extensions?: { code?: string; limit?: string } }[] };
    const error = parsed.errors?.[0]?.extensions;
    answer = error ? `${status} ${error.code}${error.limit ? ` (${error.limit})` : ''}` : `${status}`;
    const expected = testCase.refusedBy ? `400 QUERY_TOO_COMPLEX (${testCase.refusedBy})` : '200';
    if (answer !== expected) throw new Error(`${testCase.name}: expected ${expected}, got ${answer}: ${text.slice(0, 300)}`);
  }
  const before = memoryMb(server.pid, 'VmRSS');
  const peakReset = resetPeak(server.pid);
  const cpuBefore = server.cpuSeconds();
  const latencies: number[] = [];
  for (let request = 0; request < REQUESTS; request++) latencies.push((await send(server, token, body)).ms);
  const cpuAfter = server.cpuSeconds();
  const peak = memoryMb(server.pid, 'VmHWM');
  return {
    name: testCase.name,
    bodyBytes: Buffer.byteLength(body),
    answer,
    medianMs: median(latencies),
    maxMs: Math.max(...latencies),
    cpuMsPerRequest: cpuBefore === undefined || cpuAfter === undefined ? undefined : ((cpuAfter - cpuBefore) * 1000) / REQUESTS,
    peakGrowthMb: peakReset && before !== undefined && peak !== undefined ? Math.max(0, peak - before) : undefined,
  };
}

const fixed = (value: number | undefined, digits = 1) => (value === undefined ? 'n/a' : value.toFixed(digits));

async function main(): Promise<void> {
  const log = (line = '') => process.stdout.write(`${line}\n`);
  const database = await createBenchDatabase(process.env.DATABASE_URL || DEFAULT_ADMIN_URL);
  const direct = connectDatabase(database.url, { maxConnections: 1 });
  let server: BenchServer | undefined;
  try {
    const jwtSecret = randomBytes(32).toString('base64url');
    const fixture = await seedDatabase(direct, jwtSecret);
    const serving = await database.servingUrl();
    server = await startBenchServer({ audit: true, seal: true, backstop: true, signingKey: benchSigningKey(), databaseUrl: serving.url, checkServingRole: serving.checked, poolMax: database.poolMax, jwtSecret });
    log('Query limits: what a refused document costs the server');
    log(`  machine : ${describeMachine()}`);
    log(`  database: ${database.description}`);
    log(`  method  : per case ${WARMUP} warm-up requests, then ${REQUESTS} sequential ones as an admin; memory is the server's peak RSS above its RSS before them\n`);
    const results: Measurement[] = [];
    for (const testCase of CASES) results.push(await measure(server, fixture.adminToken, testCase));

    log('| Request | Body | Answer | server CPU ms/req | peak RSS growth MB | p50 ms | max ms |');
    log('| --- | ---: | --- | ---: | ---: | ---: | ---: |');
    for (const result of results) {
      const kb = result.bodyBytes < 10_240 ? `${(result.bodyBytes / 1024).toFixed(1)} KB` : `${Math.round(result.bodyBytes / 1024)} KB`;
      log(
        `| ${result.name} | ${kb} | ${result.answer} | ${fixed(result.cpuMsPerRequest)} | ${fixed(result.peakGrowthMb)} | ${fixed(result.medianMs)} | ${fixed(result.maxMs)} |`,
      );
    }
    const refused = results.filter((result) => result.answer.startsWith('400'));
    const slow = refused.filter((result) => (result.cpuMsPerRequest ?? 0) >= TARGET_MS);
    const heavy = refused.filter((result) => (result.peakGrowthMb ?? 0) >= TARGET_MB);
    log(`\nTargets for refusals (server CPU under ${TARGET_MS} ms per request, peak growth under ${TARGET_MB} MB): ${slow.length + heavy.length === 0 ? 'met' : 'MISSED'}`);
    for (const result of [...slow, ...heavy]) log(`  missed: ${result.name}`);
  } finally {
    await server?.stop();
    await direct.close();
    await database.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`query-limits benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
