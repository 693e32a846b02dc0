import 'reflect-metadata';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseAnchors, verifyTrail } from '../audit/operations';
import { auditedResourcesOf } from '../graphql/audit-actions';
import { API_FEATURES } from '../graphql/features';
import { openTrail, trustedPublicKey } from './audit-database';
import { verifyBundleCommand } from './audit-verify-bundle';
import { runCommand } from './command';

/**
 * `npm run audit:verify [-- --public-key KEY] [--anchors FILE]`: recomputes every row hash and the
 * seal chain, checks the signatures (and the anchors in FILE), recomputes the rollups and checks
 * every audited record against its versions in the trail. Prints
 * `OK` with counts and exits 0, or `FAILED` with the first bad seal, row or rollup bucket and why,
 * and exits 1; 2 when it could not check. Before that line, a `WARNING` line for each anchor line
 * that repeats an earlier one or comes after a higher sequence (which does not fail the check).
 * With `--bundle DIR`, checks an export bundle instead, with no database (audit-verify-bundle.ts).
 */
async function main(): Promise<number> {
  const { values } = parseArgs({ options: { 'public-key': { type: 'string' }, anchors: { type: 'string' }, bundle: { type: 'string' } } });
  if (values.bundle !== undefined) return verifyBundleCommand(values.bundle, values['public-key'], values.anchors);
  const publicKey = await trustedPublicKey(values['public-key']);
  const anchors = values.anchors === undefined ? [] : parseAnchors(await readFile(values.anchors, 'utf8'));
  // Two connections: the rollups are recounted on one while the rows stream through the other.
  const database = await openTrail(undefined, { connections: 2 });
  try {
    const result = await verifyTrail(database.sql, { publicKey, anchors, records: auditedResourcesOf(API_FEATURES) });
    // Repeated or out-of-order anchor lines: the check holds, but the file is not what appending heads writes.
    for (const warning of result.warnings ?? []) process.stdout.write(`WARNING: ${warning}\n`);
    if (!result.ok) {
      const where = [result.seal !== undefined && `seal ${result.seal}`, result.row !== undefined && `row ${result.row}`, result.record].filter(Boolean).join(', ');
      process.stdout.write(`FAILED: ${where ? `${where}: ` : ''}${result.reason}\n`);
      return 1;
    }
    const head = result.head ? `head seal ${result.head.sequence} ${result.head.hash}` : 'no seal yet';
    process.stdout.write(
      `OK: ${result.seals} seals, ${result.sealedRows} sealed rows unchanged, ${result.retainedRows} removed by recorded retention, ` +
        `${result.unsealedRows} not sealed yet; ${result.records} records as the trail last recorded them; ${anchors.length} anchors hold; ${head}\n`,
    );
    return 0;
  } finally {
    await database.close();
  }
}

runCommand(main, { verb: 'verify', failureStatus: 2 });
