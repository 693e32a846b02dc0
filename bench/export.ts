/**
 * `npm run bench:export -- [--rows 1000000]`: how long exporting the trail takes and what it costs
 * the server's memory. Seeds a fresh database of the local PostgreSQL (`DATABASE_URL`, else
 * {@link DEFAULT_ADMIN_URL}) with `--rows` audit rows in one month, starts the API (production, as
 * the serving role) in its own process, and downloads `GET /audit/export` of that month in each
 * format, one at a time, reporting rows/s, MB, and the server's resident memory before and at its
 * peak during the download (`VmHWM`, reset before each). Target: 1M rows in ≤ 20 s, memory flat.
 */
import './production-mode';
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { signToken } from '#src/auth/token-signer';
import { connectDatabase } from '#src/db/database';
import { runMigrations } from '#src/db/migrate';
import { DEFAULT_ADMIN_URL, createBenchDatabase } from './database';
import { memoryMb, resetPeak } from './process-memory';
import { describeMachine } from './report';
import { benchSigningKey, startBenchServer } from './servers';

const FORMATS = ['ndjson', 'csv', 'ocsf'] as const;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' } } });
  const rows = Number(values.rows);
  const database = await createBenchDatabase(process.env.DATABASE_URL ?? DEFAULT_ADMIN_URL);
  try {
    const direct = connectDatabase(database.url, { maxConnections: 1 });
    await runMigrations(direct.db);
    const seedStarted = performance.now();
    await direct.sql`select audit_logs_create_partitions('2026-01-01', '2026-02-01')`;
    await direct.sql.begin(async (tx) => {
      await tx`alter table audit_logs disable trigger audit_logs_stamp_server_values`;
      // Rows as an admin's reads and users' changes look: ids, owners, a details object, origin.
      await tx`
        insert into audit_logs (occurred_at, user_id, user_role, action, resource_type, resource_id, resource_ids, owner_ids,
                                outcome, admin_bypass, details, request_id, operation_name, ip, user_agent)
        select timestamptz '2026-01-01' + (g - 1) * (interval '31 days' / ${rows}), 'user' || (g % 2000), 'USER',
               case when g % 5 = 0 then 'admin_view_item' else 'update_item' end, 'item',
               case when g % 5 = 0 then null else (g % 1000000)::text end,
               case when g % 5 = 0 then array[(g % 1000000)::text, ((g + 7) % 1000000)::text, ((g + 13) % 1000000)::text] else '{}' end,
               array['user' || (g % 1999)], 'success', g % 5 = 0,
               case when g % 5 = 0 then jsonb_build_object('fields', jsonb_build_array('id', 'title'))
                    else jsonb_build_object('changes', jsonb_build_object('title', jsonb_build_array('Item ' || g, 'Renamed ' || g))) end,
               md5(g::text), 'UpdateItem', '10.0.' || (g % 250) || '.' || (g % 200), 'Mozilla/5.0 (X11; Linux x86_64) bench/' || (g % 10)
        from generate_series(1, ${rows}) g`;
      await tx`alter table audit_logs enable always trigger audit_logs_stamp_server_values`;
    });
    await direct.sql`analyze audit_logs`;
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    await direct.close();

    const jwtSecret = randomBytes(32).toString('base64url');
    const serving = await database.servingUrl();
    const server = await startBenchServer({ audit: true, seal: true, backstop: true, signingKey: benchSigningKey(), databaseUrl: serving.url, checkServingRole: serving.checked, poolMax: database.poolMax, jwtSecret });
    const token = await signToken(jwtSecret, { sub: 'bench-admin', role: 'admin', expiresIn: '2h' });
    const lines = [
      `| Format | rows | seconds | rows/s | MB | server RSS before → peak MB |`,
      `| --- | ---: | ---: | ---: | ---: | ---: |`,
    ];
    try {
      for (const format of FORMATS) {
        const before = memoryMb(server.pid, 'VmRSS');
        const peakReset = resetPeak(server.pid);
        const started = performance.now();
        const response = await fetch(`${server.url}/audit/export?from=2026-01-01&to=2026-02-01&format=${format}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        if (response.status !== 200) throw new Error(`${format}: HTTP ${response.status}: ${await response.text()}`);
        let bytes = 0;
        for await (const chunk of response.body!) bytes += (chunk as Uint8Array).byteLength;
        const seconds = (performance.now() - started) / 1000;
        const peak = peakReset ? memoryMb(server.pid, 'VmHWM') : undefined;
        const exported = Number(response.headers.get('x-audit-rows'));
        lines.push(
          `| ${format} | ${exported.toLocaleString('en-US')} | ${seconds.toFixed(1)} | ${Math.round(exported / seconds).toLocaleString('en-US')} | ` +
            `${(bytes / 1e6).toFixed(0)} | ${before?.toFixed(0) ?? '?'} → ${peak?.toFixed(0) ?? '?'} |`,
        );
        process.stdout.write(`${lines.at(-1)}\n`);
      }
    } finally {
      await server.stop();
    }
    process.stdout.write(`\n${lines.join('\n')}\n\nSeeded ${rows.toLocaleString('en-US')} rows in ${seedSeconds.toFixed(0)} s. ${describeMachine()}; ${database.description}.\n`);
  } finally {
    await database.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
