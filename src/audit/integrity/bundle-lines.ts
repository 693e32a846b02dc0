import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { BUNDLE_FILES, BUNDLE_FORMAT, manifestText, type BundleFile, type BundleManifest } from './bundle-format';
import { BASE_COLUMNS, HASHED_COLUMNS } from './row-hash';
import type { Seal } from './seal-encoding';

/*
 * Reading a bundle's files for `verifyBundle`: its manifest checked for shape and canonical form,
 * each other file's lines as a stream with its SHA-256, and each line parsed, or a fault naming the
 * file and the line.
 */

/** What is wrong with a bundle, as precisely as known. */
export interface BundleFailure {
  readonly ok: false;
  /** The file at fault, when known. */
  readonly file?: string;
  /** Its line (1-based). */
  readonly line?: number;
  readonly seal?: number;
  readonly row?: string;
  readonly reason: string;
}

/** Ends the check at the first fault: thrown, and caught where the check began. */
export class Fault extends Error {
  constructor(readonly failure: BundleFailure) {
    super(failure.reason);
  }
}
export const fail = (failure: Omit<BundleFailure, 'ok'>): never => {
  throw new Fault({ ok: false, ...failure });
};

/** A decimal integer as the bundle writes ids and transaction ids: no sign, no leading zeros. */
export const DECIMAL = /^(0|[1-9][0-9]*)$/;
/** A SHA-256 in lowercase hex. */
export const HEX_64 = /^[0-9a-f]{64}$/;
/** An instant as the manifest's window gives it: UTC, milliseconds. */
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A line of `rows.ndjson`. */
export interface RowLine {
  readonly line: number;
  readonly id: string;
  readonly seal: number;
  readonly row: readonly unknown[];
}

/** A line of `rows.ndjson` parsed, its row encoding the id the line names. */
export function parseRowLine(text: string, line: number): RowLine {
  const at = { file: BUNDLE_FILES.rows, line };
  let value: { id?: unknown; seal?: unknown; row?: unknown } | undefined;
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    fail({ ...at, reason: 'it is not JSON' });
  }
  if (typeof value !== 'object' || value === null || typeof value.id !== 'string' || !DECIMAL.test(value.id) || Object.keys(value).length !== 3) {
    fail({ ...at, reason: 'it is not a row line: {"id", "seal", "row"}' });
  }
  const id = value!.id as string;
  // A row without an access reason is encoded without those columns (row-hash.ts).
  const columns = Array.isArray(value!.row) ? value!.row.length : -1;
  if (!Number.isSafeInteger(value!.seal) || (value!.seal as number) < 1 || (columns !== BASE_COLUMNS.length && columns !== HASHED_COLUMNS.length)) {
    fail({ ...at, row: id, reason: `it is not a row line: {"id", "seal", "row"} with the ${BASE_COLUMNS.length} or ${HASHED_COLUMNS.length} hashed columns` });
  }
  const row = value!.row as unknown[];
  if (row[0] !== id) fail({ ...at, row: id, reason: `its row encodes id ${String(row[0])}` });
  return { line, id, seal: value!.seal as number, row };
}

/** A line of `seals.ndjson`: a seal as stored, and its row hashes when it covers exported rows. */
export interface SealLine extends Seal {
  readonly rows?: readonly [string, string][];
}

export function parseSealLine(text: string, line: number): SealLine {
  const at = { file: BUNDLE_FILES.seals, line };
  let seal: Record<string, unknown>;
  try {
    seal = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return fail({ ...at, reason: 'it is not JSON' });
  }
  const strings = ['fromXact', 'horizon', 'firstId', 'lastId', 'rowsHash', 'previousHash', 'sealedAt', 'publicKey', 'hash', 'signature'];
  const members = new Set(['sequence', 'rowCount', 'rows', ...strings]);
  const ok =
    typeof seal === 'object' &&
    seal !== null &&
    !Array.isArray(seal) &&
    Object.keys(seal).every((name) => members.has(name)) &&
    Number.isSafeInteger(seal.sequence) &&
    Number.isSafeInteger(seal.rowCount) &&
    strings.every((name) => typeof seal[name] === 'string') &&
    DECIMAL.test(seal.fromXact as string) &&
    DECIMAL.test(seal.horizon as string) &&
    (seal.rows === undefined || (Array.isArray(seal.rows) && seal.rows.length > 0));
  if (!ok) fail({ ...at, ...(Number.isSafeInteger(seal?.sequence) ? { seal: seal.sequence as number } : {}), reason: 'it is not a seal line' });
  return seal as unknown as SealLine;
}

/** A file's lines, read as a stream, with the SHA-256 and size of its bytes. */
export class LineReader {
  private readonly chunks: AsyncIterator<Buffer>;
  private readonly decoder = new StringDecoder('utf8');
  private readonly digest: Hash = createHash('sha256');
  private bytes = 0;
  private lines: string[] = [];
  private index = 0;
  private carry = '';
  private ended = false;
  /** The number of the line last returned. */
  lineNumber = 0;
  /** Whether the file is empty or ends with a line break (known once read to the end). */
  endsWithNewline = true;

  constructor(file: string) {
    this.chunks = createReadStream(file, { highWaterMark: 1 << 20 })[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** The next line without its line break; `undefined` at the end. */
  async next(): Promise<string | undefined> {
    while (this.index >= this.lines.length) {
      if (this.ended) return undefined;
      const chunk = await this.chunks.next();
      this.lines = [];
      this.index = 0;
      if (chunk.done) {
        this.ended = true;
        const rest = this.carry + this.decoder.end();
        this.carry = '';
        if (rest !== '') {
          this.endsWithNewline = false;
          this.lines = [rest];
        }
        continue;
      }
      this.digest.update(chunk.value);
      this.bytes += chunk.value.length;
      const parts = (this.carry + this.decoder.write(chunk.value)).split('\n');
      this.carry = parts.pop()!;
      this.lines = parts;
    }
    this.lineNumber += 1;
    return this.lines[this.index++];
  }

  /** Its SHA-256 and size, once read to the end. */
  file(): BundleFile {
    return { sha256: this.digest.digest('hex'), bytes: this.bytes };
  }
}

/** `manifest.json`, checked to be a manifest of this format in its exact canonical form. */
export async function readManifest(dir: string): Promise<BundleManifest> {
  const at = { file: BUNDLE_FILES.manifest };
  let text: string;
  try {
    text = await readFile(path.join(dir, BUNDLE_FILES.manifest), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') fail({ ...at, reason: 'it is missing: no bundle, or one cut short' });
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text!);
  } catch {
    fail({ ...at, reason: 'it is not JSON' });
  }
  const manifest = value as BundleManifest;
  const object = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  const sequence = (v: unknown) => v === null || (Number.isSafeInteger(v) && (v as number) >= 1);
  const shapeOk =
    object(manifest) &&
    manifest.format === BUNDLE_FORMAT &&
    object(manifest.window) &&
    typeof manifest.window.from === 'string' &&
    ISO_MS.test(manifest.window.from) &&
    typeof manifest.window.to === 'string' &&
    ISO_MS.test(manifest.window.to) &&
    Array.isArray(manifest.columns) &&
    // Bundles written before access reasons list only the base columns; their rows verify the same.
    (manifest.columns.join() === HASHED_COLUMNS.join() || manifest.columns.join() === BASE_COLUMNS.join()) &&
    count(manifest.rows) &&
    count(manifest.unsealedRows) &&
    Array.isArray(manifest.exported) &&
    manifest.exported.every((run) => Array.isArray(run) && run.length === 2 && run.every((id) => typeof id === 'string' && DECIMAL.test(id))) &&
    count(manifest.seals) &&
    sequence(manifest.firstSeal) &&
    sequence(manifest.lastSeal) &&
    (manifest.seals === 0
      ? manifest.firstSeal === null && manifest.lastSeal === null
      : manifest.firstSeal !== null && manifest.lastSeal === manifest.firstSeal + manifest.seals - 1) &&
    object(manifest.files) &&
    Object.entries(manifest.files).every(
      ([name, file]) =>
        Object.values(BUNDLE_FILES).includes(name as never) &&
        name !== BUNDLE_FILES.manifest &&
        object(file) &&
        typeof file.sha256 === 'string' &&
        HEX_64.test(file.sha256) &&
        count(file.bytes),
    ) &&
    [BUNDLE_FILES.rows, BUNDLE_FILES.seals, BUNDLE_FILES.publicKey].every((name) => Object.hasOwn(manifest.files, name)) &&
    typeof manifest.publicKey === 'string' &&
    typeof manifest.signature === 'string';
  if (!shapeOk) {
    fail({ ...at, reason: object(manifest) && manifest.format !== BUNDLE_FORMAT ? `its format is not ${BUNDLE_FORMAT}` : `it is not a ${BUNDLE_FORMAT} manifest` });
  }
  // Its exact bytes are its canonical encoding, so that no byte of it can change unseen.
  if (manifestText(manifest) !== text!) fail({ ...at, reason: 'it is not in its canonical form (RFC 8785, one line): it was edited' });
  return manifest;
}
