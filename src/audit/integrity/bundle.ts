import { createHash, type KeyObject } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type postgres from 'postgres';
import { HASHED_COLUMNS, hashedColumnsSql, type HashedRow } from './row-hash';
import { publicKeyText, type Seal } from './seal-encoding';
import type { Anchor } from './anchor';
import { HEAD_SEQUENCE_SQL, sealKeys, sealsAfter } from './chain-store';
import { BUNDLE_FILES, BUNDLE_FORMAT, manifestText, rowLine, sealLine, signManifest, type BundleFile } from './bundle-format';

/** A bundle could not be written as asked (the directory, the key); nothing was recorded or exported. */
export class BundleError extends Error {
  override readonly name = 'BundleError';
}

/** What a bundle holds, known from the export's snapshot before anything is written. */
export interface BundleCounts {
  /** The window's sealed rows: the bundle's rows. */
  readonly rows: number;
  /** The window's rows not sealed yet, left out. */
  readonly unsealedRows: number;
  readonly seals: number;
  readonly firstSeal: number | null;
  readonly lastSeal: number | null;
}

export interface WriteBundleOptions {
  /** A new or empty directory. */
  readonly dir: string;
  readonly from: Date;
  readonly to: Date;
  /** The seal-signing key: signs the manifest, and must be the key the seals name. */
  readonly signingKey: KeyObject;
  /**
   * Anchors to include (the file's text, copied as `anchors.jsonl`, and its anchors). The seals then
   * run on to the first anchored seal at or after the last covering one, if the chain has it yet, so
   * that the anchor vouches for the whole run.
   */
  readonly anchors?: { readonly text: string; readonly anchors: readonly Anchor[] };
  /** For the export's statements, which a cursor-like read of a large window outlasts. */
  readonly statementTimeoutMs?: number;
  /**
   * Called once the snapshot is taken and before anything is written (the export records itself
   * here); a rejection stops the export.
   */
  begin(counts: BundleCounts): Promise<void>;
  /** Called as rows are written, with how many so far. */
  progress?(rows: number): void;
}

/** Seals read per statement. */
const SEALS_PER_READ = 500;
/** Row hashes (with the exported rows' columns) read per statement: memory stays flat. */
const ENTRIES_PER_READ = 5_000;

/**
 * Writes the bundle of `from <= occurred_at < to` into `options.dir` from one read-only
 * REPEATABLE READ snapshot: `rows.ndjson` (the window's sealed rows, in seal then id order),
 * `seals.ndjson`, `public-key.txt`, `anchors.jsonl` if asked, and `manifest.json` last, so that a
 * bundle cut short by a failure has no manifest. Needs a pool of two connections when `begin`
 * writes to the database (the snapshot holds one).
 */
export async function writeBundle(sql: postgres.Sql, options: WriteBundleOptions): Promise<BundleCounts> {
  const dir = options.dir;
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0) throw new BundleError(`${dir} is not empty: a bundle is written into a new or empty directory`);
  const from = options.from.toISOString();
  const to = options.to.toISOString();
  const publicKey = publicKeyText(options.signingKey);

  return sql.begin('isolation level repeatable read read only', async (tx) => {
    if (options.statementTimeoutMs !== undefined) await tx`select set_config('statement_timeout', ${String(options.statementTimeoutMs)}, true)`;
    const [window] = await tx<{ rows: number; unsealed: number; first: number | null; last: number | null; head: number }[]>`
      select count(h.id)::int as rows, (count(*) - count(h.id))::int as unsealed, min(h.seal)::int as first, max(h.seal)::int as last,
             ${tx.unsafe(HEAD_SEQUENCE_SQL)} as head
      from audit_logs a left join audit_row_hashes h on h.id = a.id
      where a.occurred_at >= ${from}::timestamptz and a.occurred_at < ${to}::timestamptz`;
    const firstSeal = window!.first;
    let lastSeal = window!.last;
    if (lastSeal !== null && options.anchors) {
      const later = options.anchors.anchors.map((anchor) => anchor.sequence).filter((sequence) => sequence >= lastSeal! && sequence <= window!.head);
      if (later.length > 0) lastSeal = Math.min(...later);
    }
    if (firstSeal !== null) {
      const other = (await sealKeys(tx, firstSeal, lastSeal!)).find((key) => key !== publicKey);
      if (other) {
        throw new BundleError(`the signing key's public half ${publicKey} is not the key the seals name (${other}): its bundle would not verify`);
      }
    }
    await options.begin({
      rows: window!.rows,
      unsealedRows: window!.unsealed,
      seals: firstSeal === null ? 0 : lastSeal! - firstSeal + 1,
      firstSeal,
      lastSeal,
    });

    const rowsFile = new HashedFile(path.join(dir, BUNDLE_FILES.rows));
    const sealsFile = new HashedFile(path.join(dir, BUNDLE_FILES.seals));
    const runs = new Runs();
    let rows = 0;
    let seals = 0;
    try {
      if (firstSeal !== null) {
        const entries = entriesOf(tx, firstSeal, lastSeal!, from, to);
        let entry = await entries.next();
        for await (const seal of sealsOf(tx, firstSeal, lastSeal!)) {
          if (seal.publicKey !== publicKey) throw new BundleError(`seal ${seal.sequence} names public key ${seal.publicKey}, not ${publicKey}`);
          const list: (readonly [string, string])[] = [];
          const exported: boolean[] = [];
          for (; !entry.done && entry.value.seal <= seal.sequence; entry = await entries.next()) {
            const { value } = entry;
            if (value.seal < seal.sequence) throw new BundleError(`row hashes name seal ${value.seal}, which the chain lacks: run npm run audit:verify`);
            list.push([value.hashed_id, value.row_hash.toString('hex')]);
            exported.push(value.exported);
            if (value.exported) {
              await rowsFile.write(rowLine(value.hashed_id, seal.sequence, value));
              rows += 1;
              if (rows % ENTRIES_PER_READ === 0) options.progress?.(rows);
            }
          }
          // Only the seals that cover exported rows list their row hashes, and only their entries count for the runs.
          const covers = exported.includes(true);
          if (covers) list.forEach(([id], index) => runs.add(id, exported[index]!));
          await sealsFile.write(sealLine(seal, covers ? list : undefined));
          seals += 1;
        }
        if (!entry.done) throw new BundleError(`row hashes name seal ${entry.value.seal}, which the chain lacks: run npm run audit:verify`);
      }
    } catch (error) {
      // No stream is left open; a bundle without its manifest is not one.
      await Promise.allSettled([rowsFile.close(), sealsFile.close()]);
      throw error;
    }
    const files: Record<string, BundleFile> = { [BUNDLE_FILES.rows]: await rowsFile.close(), [BUNDLE_FILES.seals]: await sealsFile.close() };
    options.progress?.(rows);
    files[BUNDLE_FILES.publicKey] = await writeWhole(path.join(dir, BUNDLE_FILES.publicKey), `${publicKey}\n`);
    if (options.anchors) files[BUNDLE_FILES.anchors] = await writeWhole(path.join(dir, BUNDLE_FILES.anchors), options.anchors.text);
    const manifest = signManifest(
      {
        format: BUNDLE_FORMAT,
        window: { from, to },
        exportedAt: new Date().toISOString(),
        columns: HASHED_COLUMNS,
        rows,
        exported: runs.done(),
        unsealedRows: window!.unsealed,
        seals,
        firstSeal: seals === 0 ? null : firstSeal,
        lastSeal: seals === 0 ? null : firstSeal! + seals - 1,
        files,
        publicKey,
      },
      options.signingKey,
    );
    await writeFile(path.join(dir, BUNDLE_FILES.manifest), manifestText(manifest), { flag: 'wx' });
    return { rows, unsealedRows: window!.unsealed, seals, firstSeal: manifest.firstSeal, lastSeal: manifest.lastSeal };
  }) as Promise<BundleCounts>;
}

/** The exported entries as runs of consecutive entries, in the order they are added. */
class Runs {
  private readonly runs: [string, string][] = [];
  private open = false;

  add(id: string, exported: boolean): void {
    if (exported && this.open) this.runs.at(-1)![1] = id;
    else if (exported) this.runs.push([id, id]);
    this.open = exported;
  }

  done(): [string, string][] {
    return this.runs;
  }
}

/** Seals `first` to `last`, as stored, a batch per statement. */
async function* sealsOf(tx: postgres.TransactionSql, first: number, last: number): AsyncGenerator<Seal> {
  let after = first - 1;
  for (;;) {
    const batch = await sealsAfter(tx, after, SEALS_PER_READ, last);
    yield* batch;
    if (batch.length < SEALS_PER_READ) return;
    after = batch.at(-1)!.sequence;
  }
}

/** A stored row hash of the seals, and its row's columns when the row is exported (in the window). */
type Entry = HashedRow & { seal: number; hashed_id: string; row_hash: Buffer; exported: boolean };

/** The row hashes of seals `first` to `last` in seal then id order, with the rows of the window, a page per statement. */
async function* entriesOf(tx: postgres.TransactionSql, first: number, last: number, from: string, to: string): AsyncGenerator<Entry> {
  let after: [number, string] = [first, '0'];
  for (;;) {
    const page = await tx.unsafe<Entry[]>(
      `select h.seal::int as seal, h.id::text as hashed_id, h.row_hash, l.id is not null as exported, ${hashedColumnsSql('l')}
       from audit_row_hashes h
       left join audit_logs l on l.id = h.id and l.occurred_at >= $3::timestamptz and l.occurred_at < $4::timestamptz
       where h.seal between $1 and $2 and (h.seal, h.id) > ($5::bigint, $6::bigint)
       order by h.seal, h.id limit ${ENTRIES_PER_READ}`,
      [first, last, from, to, after[0], after[1]],
    );
    yield* page;
    if (page.length < ENTRIES_PER_READ) return;
    after = [page.at(-1)!.seal, page.at(-1)!.hashed_id];
  }
}

/** A file written in large chunks, with the SHA-256 and size of what was written. */
class HashedFile {
  private readonly stream: WriteStream;
  private readonly digest = createHash('sha256');
  private buffered: string[] = [];
  private bufferedLength = 0;
  private bytes = 0;
  private failure: Error | undefined;

  constructor(file: string) {
    this.stream = createWriteStream(file, { flags: 'wx' });
    this.stream.on('error', (error) => (this.failure ??= error));
  }

  async write(text: string): Promise<void> {
    this.buffered.push(text);
    this.bufferedLength += text.length;
    if (this.bufferedLength >= 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.buffered.length === 0) return;
    const chunk = Buffer.from(this.buffered.join(''), 'utf8');
    this.buffered = [];
    this.bufferedLength = 0;
    this.digest.update(chunk);
    this.bytes += chunk.length;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  async close(): Promise<BundleFile> {
    try {
      await this.flush();
    } finally {
      this.stream.end();
      await finished(this.stream).catch((error: unknown) => {
        throw this.failure ?? error;
      });
    }
    return { sha256: this.digest.digest('hex'), bytes: this.bytes };
  }
}

async function writeWhole(file: string, text: string): Promise<BundleFile> {
  const bytes = Buffer.from(text, 'utf8');
  await writeFile(file, bytes, { flag: 'wx' });
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}
