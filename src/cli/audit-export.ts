import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { AuditTrail, INVALID_ARGUMENT } from '../audit/wiring';
import { BundleError, parseAnchors } from '../audit/operations';
import { runBundleExport } from '../audit-logs/export/audit-log.bundle';
import { runAuditExport } from '../audit-logs/export/audit-log.export';
import { exportWindowOf } from '../audit-logs/export/audit-log.export-window';
import { ConfigError } from '../config/config';
import { InvalidInput } from '../core/errors';
import { commandLineRun } from '../pipeline';
import { openTrail, sealSigningKey, setting } from './audit-database';
import { runCommand } from './command';
import { AUDIT_ACTIONS } from '../graphql/audit-actions';

const USAGE =
  'usage: [DATABASE_URL=<url>] npm run -s audit:export -- --from <date> --to <date> [--format ndjson|csv|ocsf] [--output FILE]\n' +
  '       [DATABASE_URL=<url>] AUDIT_SIGNING_KEY=<key> npm run -s audit:export -- --from <date> --to <date> --bundle DIR [--anchors FILE]';

/**
 * `npm run -s audit:export -- --from 2026-11-01 --to 2026-12-01 --format csv > november.csv`: the
 * same export as `GET /audit/export`, from the command line, recorded in the trail as
 * `export_audit_logs` (no user; `operation_name` `audit:export`) before the first row is written.
 * Without DATABASE_URL, it exports the embedded database under DATA_DIR (while no server has it open).
 * With `--bundle DIR`, a verifiable bundle instead (docs/integrity.md, Export bundles), signed with the
 * seal-signing key, for `npm run audit:verify -- --bundle DIR` to check with no database.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      format: { type: 'string' },
      output: { type: 'string' },
      bundle: { type: 'string' },
      anchors: { type: 'string' },
    },
  });
  const url = setting('DATABASE_URL') ?? setting('MIGRATION_DATABASE_URL');
  if (!values.from || !values.to) throw new ConfigError(USAGE);
  const bundle = values.bundle;
  if (bundle === undefined ? values.anchors !== undefined : values.format !== undefined || values.output !== undefined || bundle === '') throw new ConfigError(USAGE);

  // Two connections: the export's snapshot holds one while its audit row is written on the other.
  // Without a URL, the embedded database under DATA_DIR, which serves one (see streamAuditLogs).
  const database = await openTrail(url, { connections: 2 });
  try {
    const audit = commandLineRun(new AuditTrail({ db: database.db, actions: AUDIT_ACTIONS }), 'audit:export');
    let window;
    try {
      window = exportWindowOf(bundle === undefined ? values : { from: values.from, to: values.to });
    } catch (error) {
      // Refused as over HTTP: recorded by the argument's name, never its value.
      if (!(error instanceof InvalidInput)) throw error;
      audit.denied({ action: INVALID_ARGUMENT, details: { argument: error.field } }, 'npm run audit:export');
      await audit.flush();
      throw new ConfigError(`--${error.message}`);
    }
    if (bundle !== undefined) {
      const signingKey = await sealSigningKey('a bundle');
      const anchors = values.anchors === undefined ? undefined : await anchorsFile(values.anchors);
      const counts = await runBundleExport(database.sql, audit, { from: window.from, to: window.to, dir: bundle, signingKey, anchors }, 'npm run audit:export');
      const seals = counts.seals === 0 ? 'no seals' : `seals ${counts.firstSeal}–${counts.lastSeal}`;
      const unsealed = counts.unsealedRows === 0 ? '' : `; ${counts.unsealedRows} row(s) of the window not sealed yet were left out`;
      process.stderr.write(`exported ${counts.rows} row(s) from ${window.from.toISOString()} to ${window.to.toISOString()} as a bundle in ${bundle} (${seals})${unsealed}\n`);
      return;
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

/** The anchors of `--anchors FILE` (lines of `npm run audit:anchor`), and the file's text to copy into the bundle. */
async function anchorsFile(file: string): Promise<{ text: string; anchors: ReturnType<typeof parseAnchors> }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`--anchors: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return { text, anchors: parseAnchors(text) };
  } catch (error) {
    throw new ConfigError(`--anchors: ${(error as Error).message}`);
  }
}

runCommand(main, { verb: 'export', expected: [BundleError] });
