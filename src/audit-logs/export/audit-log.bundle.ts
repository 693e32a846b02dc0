import type { KeyObject } from 'node:crypto';
import type postgres from 'postgres';
import { type RequestAudit } from '../../audit';
import { writeBundle, type Anchor, type BundleCounts } from '../../audit/operations';
import { EXPORT_STATEMENT_TIMEOUT_MS, recordedExport } from './audit-log.export';

/** What a bundle export covers and where it goes (docs/integrity.md, Export bundles). */
export interface BundleExport {
  /** Rows with `from <= occurred_at < to`. */
  readonly from: Date;
  readonly to: Date;
  /** A new or empty directory. */
  readonly dir: string;
  /** The seal-signing key, which signs the manifest. */
  readonly signingKey: KeyObject;
  /** An anchors file to include: its text and its anchors. */
  readonly anchors?: { readonly text: string; readonly anchors: readonly Anchor[] };
}

/**
 * Writes the verifiable bundle of a window, recorded like every export: one `export_audit_logs` row
 * with `format: 'bundle'`, `rows` (the window's sealed rows, the bundle's), `unsealedRows` (left
 * out: not sealed yet) and `seals`, committed before the first file is written; an `error` row with
 * `rowsSent` if it fails after that.
 */
export async function runBundleExport(sql: postgres.Sql, audit: RequestAudit, bundle: BundleExport, via: string): Promise<BundleCounts> {
  let counts: BundleCounts | undefined;
  await recordedExport(audit, { from: bundle.from, to: bundle.to, format: 'bundle' }, via, async (record, sent) => {
    let reported = 0;
    counts = await writeBundle(sql, {
      ...bundle,
      statementTimeoutMs: EXPORT_STATEMENT_TIMEOUT_MS,
      begin: ({ rows, unsealedRows, seals }) => record({ rows, unsealedRows, seals }),
      progress: (rows) => {
        sent(rows - reported);
        reported = rows;
      },
    });
  });
  return counts!;
}
