import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { AuditTrail, INVALID_ARGUMENT } from '../audit';
import { exportWindowOf, runAuditExport } from '../audit-logs/audit-log.export';
import { InvalidInput } from '../core/errors';
import { connectDatabase } from '../db/database';
import { commandLineRun } from '../pipeline';
import { failureLine } from '../core/failure';

const USAGE =
  'usage: DATABASE_URL=<url> npm run -s audit:export -- --from <date> --to <date> [--format ndjson|csv|ocsf] [--output FILE]';

/**
 * `npm run -s audit:export -- --from 2026-11-01 --to 2026-12-01 --format csv > november.csv`: the
 * same export as `GET /audit/export`, from the command line, recorded in the trail as
 * `export_audit_logs` (no user; `operation_name` `audit:export`) before the first row is written.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { from: { type: 'string' }, to: { type: 'string' }, format: { type: 'string' }, output: { type: 'string' } },
  });
  const url = process.env.DATABASE_URL?.trim() || process.env.MIGRATION_DATABASE_URL?.trim();
  if (!url || !values.from || !values.to) throw new Error(USAGE);

  // Two connections: the export's snapshot holds one while its audit row is written on the other.
  const database = connectDatabase(url, { maxConnections: 2 });
  try {
    const audit = commandLineRun(new AuditTrail({ db: database.db }), 'audit:export');
    let window;
    try {
      window = exportWindowOf(values);
    } catch (error) {
      // Refused as over HTTP: recorded by the argument's name, never its value.
      if (error instanceof InvalidInput) audit.denied({ action: INVALID_ARGUMENT.name, details: { argument: error.field } }, 'npm run audit:export');
      await audit.flush();
      throw error;
    }
    const out: Writable = values.output ? createWriteStream(values.output) : process.stdout;
    let rows = 0;
    await runAuditExport(
      database.sql,
      audit,
      window,
      {
        start: (count) => (rows = count),
        write: (chunk) => new Promise((resolve, reject) => (out.write(chunk) ? resolve() : out.once('drain', resolve).once('error', reject))),
      },
      'npm run audit:export',
    );
    if (out !== process.stdout) {
      out.end();
      await finished(out);
    }
    process.stderr.write(`exported ${rows} row(s) from ${window.from.toISOString()} to ${window.to.toISOString()} as ${window.format}\n`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  const message =
    error instanceof InvalidInput ? `--${error.message}` : error instanceof Error && error.message === USAGE ? USAGE : failureLine(error, 'export');
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
