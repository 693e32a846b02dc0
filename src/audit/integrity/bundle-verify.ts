import { createHash, type KeyObject } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import canonicalize from 'canonicalize';
import { parseAnchors } from './anchor';
import { BUNDLE_FILES, manifestSignatureValid, type BundleFile, type BundleManifest } from './bundle-format';
import { DECIMAL, fail, Fault, HEX_64, LineReader, parseRowLine, parseSealLine, readManifest, type BundleFailure, type RowLine } from './bundle-lines';
import { GENESIS_HASH, publicKeyFromText, publicKeyText, sealHash, sealSignatureValid, type Seal } from './seal-encoding';
import type { Anchor } from './anchor';

export interface VerifyBundleOptions {
  /**
   * The key to trust: the one you got from the trail's operator. Without it the bundle's own key is
   * trusted, which proves the bundle whole and consistent, not who made it.
   */
  readonly publicKey?: KeyObject;
  /** Anchors you collected yourself; each one of a seal in the bundle must match it. */
  readonly anchors?: readonly Anchor[];
}


export type VerifyBundleResult = (
  | {
      readonly ok: true;
      readonly window: { readonly from: string; readonly to: string };
      /** Rows recomputed and found at their place in their seal's row hashes. */
      readonly rows: number;
      /** Rows of the window not sealed when exported, so not in the bundle. */
      readonly unsealedRows: number;
      readonly seals: number;
      /** Seals whose row hashes the bundle lists. */
      readonly listedSeals: number;
      /** Row hashes of listed seals whose rows are not in the bundle (outside its window). */
      readonly undisclosedRows: number;
      readonly firstSeal: number | null;
      readonly lastSeal: number | null;
      /** Files that match the signed manifest, the manifest included. */
      readonly files: number;
      /** Anchors of a seal in the bundle, which all matched. */
      readonly anchorsHeld: number;
      /** Anchors of seals outside the bundle's run, which it cannot check. */
      readonly anchorsOutside: number;
    }
  | BundleFailure
) & {
  /** The key trusted, when it got that far, and whether it was given or the bundle's own. */
  readonly trusted?: { readonly publicKey: string; readonly given: boolean };
};


const ISO_US = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * Checks the bundle in `dir` with no database (docs/integrity.md, Export bundles), and returns its counts or
 * the first fault, naming the file, line, seal and row where it can. In order: the manifest (its
 * canonical form, its key, its signature), the directory against the manifest's list of files,
 * `public-key.txt`, the anchors; then `seals.ndjson` and `rows.ndjson` read together: each seal's
 * link to the one before, hash, key and signature, and its listed row hashes against its row
 * count, id range and rows hash; each row's hash recomputed and found at its place in its seal's
 * list, each exported entry's row present and each row line an exported entry's; then the counts
 * against the manifest and each file's SHA-256. Reads both files as streams, holding one seal's
 * list at a time.
 */
export async function verifyBundle(dir: string, options: VerifyBundleOptions = {}): Promise<VerifyBundleResult> {
  let trusted: { publicKey: string; given: boolean } | undefined;
  try {
    const manifest = await readManifest(dir);
    const givenKey = options.publicKey && publicKeyText(options.publicKey);
    trusted = { publicKey: givenKey ?? manifest.publicKey, given: givenKey !== undefined };
    const key = options.publicKey ?? publicKeyFromText(manifest.publicKey);
    const at = { file: BUNDLE_FILES.manifest };
    if (!key) fail({ ...at, reason: `its public key ${manifest.publicKey} is not an Ed25519 public key` });
    if (manifest.publicKey !== trusted.publicKey) fail({ ...at, reason: `it names public key ${manifest.publicKey}, not the trusted ${trusted.publicKey}` });
    if (!manifestSignatureValid(manifest, key!)) {
      fail({ ...at, reason: 'its signature is not valid for the trusted public key: the manifest was changed (or made) without the signing key' });
    }

    // The directory holds exactly the files the manifest lists, and the manifest.
    const present = new Set(await readdir(dir));
    for (const name of [...present].sort()) {
      if (name !== BUNDLE_FILES.manifest && !Object.hasOwn(manifest.files, name)) fail({ file: name, reason: 'the signed manifest does not list it: added' });
    }
    for (const name of Object.keys(manifest.files)) {
      if (!present.has(name)) fail({ file: name, reason: 'the signed manifest lists it, but it is missing: removed' });
    }
    const checkDigest = (name: string, actual: BundleFile) => {
      const listed = manifest.files[name]!;
      if (actual.sha256 !== listed.sha256 || actual.bytes !== listed.bytes) {
        fail({ file: name, reason: `its SHA-256 ${actual.sha256} (${actual.bytes} bytes) is not the signed manifest's ${listed.sha256} (${listed.bytes} bytes): the file was changed` });
      }
    };
    // A small file is checked against the manifest as soon as it is read, before what it says is used.
    const whole = async (name: string) => {
      const bytes = await readFile(path.join(dir, name));
      const text = bytes.toString('utf8');
      checkDigest(name, { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length });
      return text;
    };

    if ((await whole(BUNDLE_FILES.publicKey)) !== `${manifest.publicKey}\n`) {
      fail({ file: BUNDLE_FILES.publicKey, reason: `it does not hold the manifest's public key ${manifest.publicKey} (one line)` });
    }
    // Anchors: the bundle's own and the caller's, each checked against the seal it names.
    const anchors = new Map<number, { hash: string; from: string }[]>();
    const addAnchor = (anchor: Anchor, from: string) => anchors.set(anchor.sequence, [...(anchors.get(anchor.sequence) ?? []), { hash: anchor.hash, from }]);
    if (Object.hasOwn(manifest.files, BUNDLE_FILES.anchors)) {
      let parsed: Anchor[] = [];
      try {
        parsed = parseAnchors(await whole(BUNDLE_FILES.anchors));
      } catch (error) {
        fail({ file: BUNDLE_FILES.anchors, reason: (error as Error).message });
      }
      for (const anchor of parsed) addAnchor(anchor, BUNDLE_FILES.anchors);
    }
    for (const anchor of options.anchors ?? []) addAnchor(anchor, '--anchors');

    // The two large files are checked line by line first, so that a changed row or seal is named, then as bytes.
    const chain = await checkSealsAndRows(dir, manifest, key!, anchors);
    checkDigest(BUNDLE_FILES.seals, chain.sealsFile);
    checkDigest(BUNDLE_FILES.rows, chain.rowsFile);
    let anchorsHeld = 0;
    let anchorsOutside = 0;
    for (const [sequence, list] of anchors) {
      const inside = manifest.firstSeal !== null && sequence >= manifest.firstSeal && sequence <= manifest.lastSeal!;
      if (inside) anchorsHeld += list.length;
      else anchorsOutside += list.length;
    }
    return {
      ok: true,
      trusted,
      window: manifest.window,
      rows: chain.rows,
      unsealedRows: manifest.unsealedRows,
      seals: manifest.seals,
      listedSeals: chain.listedSeals,
      undisclosedRows: chain.undisclosedRows,
      firstSeal: manifest.firstSeal,
      lastSeal: manifest.lastSeal,
      files: Object.keys(manifest.files).length + 1,
      anchorsHeld,
      anchorsOutside,
    };
  } catch (error) {
    if (error instanceof Fault) return { ...error.failure, ...(trusted ? { trusted } : {}) };
    throw error;
  }
}

/** Decimal ids compared as numbers: no leading zeros, so the longer is the larger. */
const compareIds = (a: string, b: string): number => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

interface ChainCheck {
  readonly rows: number;
  readonly listedSeals: number;
  readonly undisclosedRows: number;
  readonly rowsFile: BundleFile;
  readonly sealsFile: BundleFile;
}

/** `seals.ndjson` and `rows.ndjson`, read together line by line. */
async function checkSealsAndRows(dir: string, manifest: BundleManifest, key: KeyObject, anchors: Map<number, { hash: string; from: string }[]>): Promise<ChainCheck> {
  const seals = new LineReader(path.join(dir, BUNDLE_FILES.seals));
  const rows = new LineReader(path.join(dir, BUNDLE_FILES.rows));
  const ROWS = BUNDLE_FILES.rows;
  const SEALS = BUNDLE_FILES.seals;
  const from = `${manifest.window.from.slice(0, -1)}000Z`;
  const to = `${manifest.window.to.slice(0, -1)}000Z`;

  // The next row line, read ahead by one; null at the end.
  let pending: RowLine | null | undefined;
  let previousRow: RowLine | undefined;
  const peekRow = async (): Promise<RowLine | null> => {
    if (pending !== undefined) return pending;
    const text = await rows.next();
    if (text === undefined) return (pending = null);
    const row = parseRowLine(text, rows.lineNumber);
    if (previousRow) {
      const order = comparePositions(row, previousRow.seal, previousRow.id);
      if (order === 0) fail({ file: ROWS, line: row.line, seal: row.seal, row: row.id, reason: 'it appears twice: the line was repeated' });
      if (order < 0) fail({ file: ROWS, line: row.line, seal: row.seal, row: row.id, reason: 'it comes before the line above it, out of (seal, id) order: a line was added or moved' });
    }
    return (pending = row);
  };

  const runs = manifest.exported;
  let run = 0;
  let inRun = false;
  let exportedRows = 0;
  let undisclosedRows = 0;
  let listedSeals = 0;
  let previous: Seal | undefined;
  let sealCount = 0;

  for (let text = await seals.next(); text !== undefined; text = await seals.next()) {
    const line = seals.lineNumber;
    const seal = parseSealLine(text, line);
    const at = { file: SEALS, line, seal: seal.sequence };
    const expected = previous ? previous.sequence + 1 : manifest.firstSeal;
    if (expected === null || seal.sequence !== expected) {
      fail({ ...at, reason: expected === null ? 'the manifest lists no seals' : `seal ${expected} is missing here: the run of seals goes from ${expected - 1} to ${seal.sequence}` });
    }
    if (previous) {
      if (seal.previousHash !== previous.hash) fail({ ...at, reason: "its previous hash is not the previous seal's hash" });
      if (seal.fromXact !== previous.horizon) fail({ ...at, reason: "its window does not start at the previous seal's horizon" });
    } else if (seal.sequence === 1 && (seal.previousHash !== GENESIS_HASH || seal.fromXact !== '0')) {
      fail({ ...at, reason: 'the first seal of the chain must have previous hash 0…0 and start at transaction 0' });
    }
    if (BigInt(seal.horizon) <= BigInt(seal.fromXact)) fail({ ...at, reason: 'its window is empty or reversed' });
    if (sealHash(seal) !== seal.hash) fail({ ...at, reason: 'its hash does not match its content' });
    if (seal.publicKey !== manifest.publicKey) fail({ ...at, reason: `it names public key ${seal.publicKey}, not the trusted ${manifest.publicKey}` });
    if (!sealSignatureValid(seal, key)) fail({ ...at, reason: 'its signature is not valid for the trusted public key' });
    for (const anchor of anchors.get(seal.sequence) ?? []) {
      if (anchor.hash !== seal.hash) fail({ ...at, reason: `its hash ${seal.hash} differs from the anchored ${anchor.hash} (${anchor.from}): the chain was rewritten` });
    }

    if (seal.rows) {
      listedSeals += 1;
      const list = seal.rows;
      // The list is the seal's: its count, id range and rows hash.
      const digest = createHash('sha256');
      for (const [index, entry] of list.entries()) {
        if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || !DECIMAL.test(entry[0]) || typeof entry[1] !== 'string' || !HEX_64.test(entry[1])) {
          fail({ ...at, reason: `entry ${index + 1} of its row hashes is not [id, hex SHA-256]` });
        }
        if (index > 0 && compareIds(list[index - 1]![0], entry[0]) >= 0) fail({ ...at, row: entry[0], reason: 'its row hashes are not in strictly increasing id order' });
        digest.update(Buffer.from(entry[1], 'hex'));
      }
      if (list.length !== seal.rowCount) fail({ ...at, reason: `it seals ${seal.rowCount} rows but lists ${list.length} row hashes` });
      if (list[0]![0] !== seal.firstId || list.at(-1)![0] !== seal.lastId) {
        fail({ ...at, reason: `its ids run ${seal.firstId}–${seal.lastId} but its listed row hashes' run ${list[0]![0]}–${list.at(-1)![0]}` });
      }
      if (digest.digest('hex') !== seal.rowsHash) fail({ ...at, reason: 'its rows hash does not match its listed row hashes: a row hash was changed' });

      // Each entry, in order: exported (per the signed manifest) and then its row must be the next row line; or not, and then it must not be.
      for (const [id, hash] of list) {
        if (!inRun && run < runs.length && runs[run]![0] === id) inRun = true;
        const exported = inRun;
        if (inRun && runs[run]![1] === id) {
          inRun = false;
          run += 1;
        }
        const row = await peekRow();
        const order = row ? comparePositions(row, seal.sequence, id) : 1;
        if (order !== 0 && row) {
          // The row line and the list disagree here: say which of them was changed, when the row's hash tells.
          if (row.id === id) fail({ file: ROWS, line: row.line, seal: row.seal, row: row.id, reason: `it names seal ${row.seal}, but seal ${seal.sequence} lists it` });
          if (row.seal === seal.sequence && hashOf(row) === hash) {
            fail({ ...at, row: row.id, reason: `its row hashes list row ${row.id}'s hash under id ${id}: the list was changed` });
          }
        }
        if (order < 0) fail(added(row!));
        if (order === 0) {
          if (!exported) fail({ file: ROWS, line: row!.line, seal: row!.seal, row: row!.id, reason: 'the signed manifest does not export this row: the line was added' });
          if (hashOf(row!) !== hash) fail({ file: ROWS, line: row!.line, seal: row!.seal, row: row!.id, reason: 'the row differs from what was sealed: its hash does not match' });
          const occurredAt = row!.row[1];
          if (typeof occurredAt !== 'string' || !ISO_US.test(occurredAt) || occurredAt < from || occurredAt >= to) {
            fail({ file: ROWS, line: row!.line, seal: row!.seal, row: row!.id, reason: `its occurred_at ${String(occurredAt)} lies outside the bundle's window` });
          }
          exportedRows += 1;
          previousRow = row!;
          pending = undefined;
        } else if (exported) {
          fail({ file: ROWS, seal: seal.sequence, row: id, reason: 'the signed manifest exports this row, but rows.ndjson lacks it: removed' });
        } else {
          undisclosedRows += 1;
        }
      }
    }
    previous = seal;
    sealCount += 1;
  }
  if (!seals.endsWithNewline) fail({ file: SEALS, line: seals.lineNumber, reason: 'its last line does not end with a line break: cut short' });
  const leftover = await peekRow();
  if (leftover) fail(added(leftover));
  if (!rows.endsWithNewline) fail({ file: ROWS, line: rows.lineNumber, reason: 'its last line does not end with a line break: cut short' });
  if (sealCount !== manifest.seals) fail({ file: SEALS, reason: `it holds ${sealCount} seals, but the signed manifest says ${manifest.seals}: seals were removed` });
  if (run < runs.length) {
    fail({ file: SEALS, row: runs[run]![inRun ? 1 : 0], reason: 'the signed manifest exports this row, but no listed seal holds it: row hashes were removed' });
  }
  if (exportedRows !== manifest.rows) fail({ file: ROWS, reason: `it holds ${exportedRows} rows, but the signed manifest says ${manifest.rows}` });
  return { rows: exportedRows, listedSeals, undisclosedRows, rowsFile: rows.file(), sealsFile: seals.file() };
}

/** A row line that matches no exported entry where it stands. */
function added(row: RowLine): Omit<BundleFailure, 'ok'> {
  return {
    file: BUNDLE_FILES.rows,
    line: row.line,
    seal: row.seal,
    row: row.id,
    reason: `seal ${row.seal} lists no such row among its exported rows in seals.ndjson: the line was added (forged, or moved from another seal)`,
  };
}

/** A row's hash: SHA-256 of the RFC 8785 encoding of its `row` array. */
const hashOf = (row: RowLine): string => createHash('sha256').update(canonicalize(row.row)!, 'utf8').digest('hex');

/** The order of a row line's place against (seal, id). */
const comparePositions = (row: RowLine, seal: number, id: string): number => row.seal - seal || compareIds(row.id, id);

