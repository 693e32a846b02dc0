import { parseArgs } from 'node:util';
import { auditMonthsBefore, dropAuditMonthsBefore, RetentionError, type DroppedAuditMonth } from '../audit/operations';
import { AuditTrail } from '../audit/wiring';
import { commandLineRun } from '../pipeline';
import { openTrail, sealSigningKey, setting } from './audit-database';
import { runCommand } from './command';
import { AUDIT_ACTIONS } from '../graphql/audit-actions';

const USAGE = 'usage: [MIGRATION_DATABASE_URL=<owner>] npm run audit:retention -- --before <YYYY-MM-DD> [--dry-run]';

/**
 * `npm run audit:retention -- --before 2026-01-01`: drops every month of the trail that ends on
 * or before that date (UTC) and records it in the trail (`audit_retention`), in one transaction.
 * Runs as the owner of the tables (MIGRATION_DATABASE_URL, or DATABASE_URL where one role does
 * everything; without either, the embedded database under DATA_DIR): the serving role cannot drop
 * anything. `--dry-run` lists the months it would drop.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { before: { type: 'string' }, 'dry-run': { type: 'boolean' } } });
  if (!values.before) throw new RetentionError(USAGE);
  const before = parseBefore(values.before);
  const key = values['dry-run'] ? undefined : await sealSigningKey('a retention');

  const database = await openTrail(setting('MIGRATION_DATABASE_URL') ?? setting('DATABASE_URL'));
  try {
    if (values['dry-run']) {
      const months = await auditMonthsBefore(database.db, before);
      for (const month of months) process.stdout.write(`would drop ${describe(month)}\n`);
      process.stdout.write(`dry run: ${months.length} month(s) end on or before ${before.toISOString()}; nothing dropped\n`);
      return;
    }
    const audit = commandLineRun(new AuditTrail({ db: database.db, actions: AUDIT_ACTIONS }), 'audit:retention');
    const { dropped, recordId } = await dropAuditMonthsBefore(database.db, before, key!, audit);
    for (const month of dropped) process.stdout.write(`dropped ${describe(month)}, ${month.rows} row(s)\n`);
    process.stdout.write(
      recordId === undefined
        ? `no month of the trail ends on or before ${before.toISOString()}; nothing dropped\n`
        : `dropped ${dropped.length} month(s); recorded as audit_retention row ${recordId}, signed; audit:verify accepts the removal once the next seal covers that row\n`,
    );
  } finally {
    await database.close();
  }
}

/** A date (`2026-01-01`, midnight UTC) or a timestamp with its zone (`2026-01-01T00:00:00Z`). */
function parseBefore(text: string): Date {
  const withZone = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const before = new Date(withZone);
  if (!/^\d{4}-\d{2}-\d{2}(T.+(Z|[+-]\d{2}:\d{2}))?$/.test(text) || Number.isNaN(before.getTime())) {
    throw new RetentionError('--before must be a date (2026-01-01) or a timestamp with a zone (2026-01-01T00:00:00Z)');
  }
  return before;
}

const describe = (month: Pick<DroppedAuditMonth, 'name' | 'from' | 'to'>) =>
  `${month.name} [${month.from.toISOString()}, ${month.to.toISOString()})`;

runCommand(main, { verb: 'retention', expected: [RetentionError] });
