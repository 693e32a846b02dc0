import { appendFile } from 'node:fs/promises';
import { headAnchor } from '../audit/operations';
import { openTrail, setting } from './audit-database';
import { runCommand } from './command';

/**
 * `npm run audit:anchor`: prints the chain's signed head as one JSON line and appends it to
 * `AUDIT_ANCHOR_FILE` when set. Keep anchors where the database's owner cannot rewrite them;
 * `npm run audit:verify -- --anchors FILE` then fails on a chain that was cut or rewritten.
 */
async function main(): Promise<number> {
  const database = await openTrail();
  try {
    const head = await headAnchor(database.sql);
    if (!head) {
      process.stderr.write('nothing to anchor: the trail has no seal yet\n');
      return 1;
    }
    const line = `${JSON.stringify({ ...head, anchoredAt: new Date().toISOString() })}\n`;
    const file = setting('AUDIT_ANCHOR_FILE');
    if (file) await appendFile(file, line, { mode: 0o600 });
    process.stdout.write(line);
    return 0;
  } finally {
    await database.close();
  }
}

runCommand(main, { verb: 'anchor', failureStatus: 2 });
