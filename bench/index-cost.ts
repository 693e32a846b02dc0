/**
 * `npm run bench:indexes [-- --rows 500000 --inserts 50000 --rounds 3]`: what each index of
 * `audit_logs` costs a write. On a fresh database migrated to the current schema, copies of the
 * table with `--rows` seeded rows ({@link seedChunkSql}) get the primary key alone (the baseline),
 * the primary key and one of the table's indexes, or all of them; each copy then takes `--inserts`
 * more rows one INSERT at a time (as a change's row arrives), measured as the server process's CPU
 * time (elapsed time inside the server when PostgreSQL is not on this machine). An index's
 * cost is its copy's time per row minus the baseline's, median over `--rounds` alternating rounds.
 */
import './production-mode';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connectDatabase, type Database } from '#src/db/database';
import { runMigrations } from '#src/db/migrate';
import { createBenchDatabase, DEFAULT_ADMIN_URL } from './database';
import { describeMachine } from './report';
import { median } from './stats';
import { seedChunkSql } from './trail-seed';

const log = (line = '') => process.stdout.write(`${line}\n`);

interface Variant {
  readonly name: string;
  /** `CREATE INDEX` statements for the copy, `ON scratch`. */
  readonly indexes: readonly string[];
}

/** The secondary indexes of `audit_logs` as `pg_indexes` defines them, rewritten for the copy `scratch`. */
async function trailIndexes(database: Database): Promise<{ name: string; definition: string }[]> {
  const rows = await database.sql<{ name: string; definition: string }[]>`
    select c.relname as name, pg_get_indexdef(i.indexrelid) as definition
    from pg_index i join pg_class c on c.oid = i.indexrelid
    where i.indrelid = 'audit_logs'::regclass and not i.indisprimary order by c.relname`;
  return rows.map(({ name, definition }) => ({
    name,
    definition: definition.replace(/^CREATE INDEX \S+ ON (ONLY )?public\.audit_logs /, 'CREATE INDEX ON scratch '),
  }));
}

/** The columns of the primary key of `audit_logs`, comma-separated, for the copy's own. */
async function primaryKeyColumns(database: Database): Promise<string> {
  const [row] = await database.sql<{ columns: string }[]>`
    select string_agg(quote_ident(a.attname), ', ' order by k.n) as columns
    from pg_index i, unnest(i.indkey) with ordinality k(attnum, n), pg_attribute a
    where i.indrelid = 'audit_logs'::regclass and i.indisprimary and a.attrelid = i.indrelid and a.attnum = k.attnum`;
  return row!.columns;
}

/**
 * CPU seconds the server process behind `database`'s one connection has used, when PostgreSQL runs
 * on this machine (`/proc/<pid>/stat`): unlike elapsed time, hardly moved by whatever else competes
 * for the cores. `undefined` otherwise.
 */
async function backendCpuSeconds(database: Database): Promise<number | undefined> {
  const [{ pid }] = (await database.sql`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** `/proc/<pid>/stat` counts utime and stime in USER_HZ ticks, which Linux fixes at 100 per second. */
const TICKS_PER_SECOND = 100;

/**
 * Microseconds per row for `inserts` single-row INSERTs into a fresh copy with `variant`'s indexes:
 * the server process's CPU time if it can be read, else the elapsed time inside the server.
 */
async function insertCost(database: Database, variant: Variant, inserts: number): Promise<number> {
  await database.sql`drop table if exists scratch`;
  await database.sql`create table scratch as table prefilled`;
  await database.sql.unsafe(`alter table scratch add primary key (${await primaryKeyColumns(database)})`);
  for (const definition of variant.indexes) await database.sql.unsafe(definition);
  await database.sql`vacuum analyze scratch`;
  const cpuBefore = await backendCpuSeconds(database);
  const [row] = await database.sql<{ micros: number }[]>`select time_single_row_inserts(${inserts}) as micros`;
  const cpuAfter = await backendCpuSeconds(database);
  const micros = cpuBefore === undefined || cpuAfter === undefined ? row!.micros : (cpuAfter - cpuBefore) * 1e6;
  return micros / inserts;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rows: { type: 'string', default: '500000' }, inserts: { type: 'string', default: '50000' }, rounds: { type: 'string', default: '3' } },
  });
  const [rows, inserts, rounds] = [Number(values.rows), Number(values.inserts), Number(values.rounds)];
  const bench = await createBenchDatabase(process.env.DATABASE_URL || DEFAULT_ADMIN_URL);
  const database = connectDatabase(bench.url, { maxConnections: 1 });
  try {
    await runMigrations(database.db);
    log(`Write cost of each audit_logs index: ${inserts.toLocaleString('en-US')} single-row INSERTs into a copy holding ${rows.toLocaleString('en-US')} rows`);
    log(`  machine : ${describeMachine()}`);
    log(`  database: ${bench.description}`);
    // The rows already there, and the rows to insert (the seed's next ones), without any index.
    for (const table of ['prefilled', 'arriving']) await database.sql.unsafe(`create table ${table} (like audit_logs including defaults)`);
    await database.sql.unsafe(seedChunkSql(1, rows, rows + inserts, 1, 'prefilled'));
    await database.sql.unsafe(seedChunkSql(rows + 1, rows + inserts, rows + inserts, 1, 'arriving'));
    await database.sql`alter table arriving add primary key (id)`;
    await database.sql.unsafe(`
      create function time_single_row_inserts(n int) returns float8 language plpgsql as $$
      declare started timestamptz := clock_timestamp();
      begin
        for i in 1..n loop
          insert into scratch select * from arriving where id = ${rows} + i;
        end loop;
        return extract(epoch from clock_timestamp() - started) * 1e6;
      end $$`);

    const indexes = await trailIndexes(database);
    const variants: Variant[] = [
      { name: '(primary key only)', indexes: [] },
      ...indexes.map(({ name, definition }) => ({ name, indexes: [definition] })),
      { name: 'all of them', indexes: indexes.map(({ definition }) => definition) },
    ];
    const costs = new Map<Variant, number[]>(variants.map((variant) => [variant, []]));
    for (let round = 0; round < rounds; round++) {
      for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) costs.get(variant)!.push(await insertCost(database, variant, inserts));
    }
    const base = median(costs.get(variants[0]!)!);
    const measure = (await backendCpuSeconds(database)) === undefined ? 'elapsed in the server' : 'server CPU';
    log(`\n  µs per row (${measure}), median of ${rounds} rounds; "+ µs" is over the primary key alone.\n`);
    log('| Index | µs per row | + µs per row |');
    log('| --- | ---: | ---: |');
    for (const variant of variants) {
      const cost = median(costs.get(variant)!);
      log(`| ${variant.name} | ${cost.toFixed(1)} | ${variant === variants[0] ? '—' : (cost - base).toFixed(1)} |`);
    }
  } finally {
    await database.close();
    await bench.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`index cost benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
