/**
 * `node dist/bench/bundle.js [--rows 100000] [--keep DIR]` (after `npm run build`): how long a verifiable export
 * bundle takes to write and to verify offline (docs/integrity.md, Export bundles). Creates a fresh database
 * of the local PostgreSQL (`DATABASE_URL`, else {@link DEFAULT_ADMIN_URL}), adds `--rows` rows of
 * admin page reads in transactions of 2,000, sealing after each (as a busy second seals), with a
 * few rows before and after the window in the boundary seals; then runs `audit:export --bundle`
 * and `audit:verify --bundle` as child processes, as users do, and reports their wall time and
 * peak memory (`VmHWM`). Target: 100k rows verified in < 10 s.
 */
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sealOnce } from '#src/audit/operations';
import { publicKeyText } from '#src/audit/integrity/seal-encoding';
import { connectDatabase } from '#src/db/database';
import { runMigrations } from '#src/db/migrate';
import { DEFAULT_ADMIN_URL, createBenchDatabase } from './database';
import { memoryMb } from './process-memory';
import { describeMachine } from './report';
import { benchSigningKey } from './servers';

const ROWS_PER_SEAL = 2_000;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string', default: '100000' }, keep: { type: 'string' } } });
  const rows = Number(values.rows);
  const database = await createBenchDatabase(process.env.DATABASE_URL ?? DEFAULT_ADMIN_URL);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-bundle-'));
  try {
    const keyBase64 = benchSigningKey();
    const signingKey = createPrivateKey({ key: Buffer.from(keyBase64, 'base64'), format: 'der', type: 'pkcs8' });
    const direct = connectDatabase(database.url, { maxConnections: 1 });
    await runMigrations(direct.db);
    const addRows = (count: number, agent: string) => direct.sql`
      insert into audit_logs (user_id, user_role, action, resource_type, resource_ids, owner_ids, outcome, admin_bypass, details,
                              request_id, operation_name, ip, user_agent)
      select 'admin' || (g % 20), 'ADMIN', 'admin_view_item', 'item',
             array(select (g * 20 + i)::text from generate_series(1, 20) i), array['user' || (g % 2000)], 'success', true,
             jsonb_build_object('fields', jsonb_build_array('id', 'title', 'description', 'ownerId', 'createdAt', 'updatedAt')),
             gen_random_uuid()::text, 'AdminPage', '10.0.' || (g % 250) || '.' || (g % 200), ${agent}
      from generate_series(1, ${count}) g`;
    const seal = async () => {
      while ((await sealOnce(direct.sql, { signingKey, holder: 'bench', leaseMs: 60_000 })).seal);
    };
    const seeded = performance.now();
    // Rows before the window, in the first seal of the bundle's run, and after it, in the last.
    await addRows(50, 'before');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [start] = await direct.sql<{ at: string }[]>`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at`;
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (let added = 0; added < rows; added += ROWS_PER_SEAL) {
      await addRows(Math.min(ROWS_PER_SEAL, rows - added), 'Mozilla/5.0 (X11; Linux x86_64) bench');
      if (added + ROWS_PER_SEAL < rows) await seal();
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [end] = await direct.sql<{ at: string }[]>`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at`;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await addRows(50, 'after');
    await seal();
    await direct.sql`vacuum analyze audit_logs`;
    await direct.sql`vacuum analyze audit_row_hashes`;
    const seedSeconds = (performance.now() - seeded) / 1000;
    await direct.close();

    // --keep DIR: the bundle is written there and left, to look at or verify again.
    const bundle = values.keep ?? path.join(dir, 'bundle');
    const exported = await timed('dist/cli/audit-export.js', ['--from', start!.at, '--to', end!.at, '--bundle', bundle], {
      DATABASE_URL: database.url,
      AUDIT_SIGNING_KEY: keyBase64,
    });
    const publicKey = publicKeyText(createPublicKey(signingKey));
    const verified = await timed('dist/cli/audit-verify.js', ['--bundle', bundle, '--public-key', publicKey], {});
    const size = (name: string) => stat(path.join(bundle, name)).then((s) => (s.size / 1e6).toFixed(1));
    const report = [
      `Export bundle of ${rows.toLocaleString('en-US')} rows (seeded and sealed in ${seedSeconds.toFixed(1)} s, seals of ${ROWS_PER_SEAL})`,
      `  export: ${exported.seconds.toFixed(2)} s, peak RSS ${exported.maxRssMb.toFixed(0)} MB: ${exported.stderr.trim()}`,
      `  bundle: rows.ndjson ${await size('rows.ndjson')} MB, seals.ndjson ${await size('seals.ndjson')} MB`,
      `  verify offline: ${verified.seconds.toFixed(2)} s (${Math.round(rows / verified.seconds).toLocaleString('en-US')} rows/s), peak RSS ${verified.maxRssMb.toFixed(0)} MB, exit ${verified.code}`,
      `  ${verified.stdout.trim().split('\n').join('\n  ')}`,
      `  on ${describeMachine()}; ${database.description}`,
    ];
    process.stdout.write(`${report.join('\n')}\n`);
    if (exported.code !== 0 || verified.code !== 0) process.exitCode = 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
    await database.drop();
  }
}

/** Runs a built CLI to completion: its wall time, peak resident memory (`VmHWM`, read as it runs), exit code and output. */
function timed(script: string, args: string[], env: Record<string, string>) {
  const started = performance.now();
  const child = spawn(process.execPath, [script, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let maxRssMb = 0;
  const sample = setInterval(() => (maxRssMb = Math.max(maxRssMb, memoryMb(child.pid!, 'VmHWM') ?? 0)), 20);
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise<{ code: number | null; seconds: number; maxRssMb: number; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => {
      clearInterval(sample);
      resolve({ code, seconds: (performance.now() - started) / 1000, maxRssMb, stdout, stderr });
    });
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
