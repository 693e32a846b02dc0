import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import { encodeRow, type HashedRow } from './row-hash';
import type { Seal } from './seal-encoding';

/**
 * A verifiable export bundle (docs/integrity.md, Export bundles): a directory holding a window of the trail's
 * rows in their hashed form, the contiguous run of seals that covers them with each covering seal's
 * ordered row hashes, and a manifest signed by the seal-signing key that lists every file's SHA-256
 * and which of the listed rows are exported. `verifyBundle` (bundle-verify.ts) checks one with no
 * database.
 */
export const BUNDLE_FORMAT = 'audit-export-bundle/1';

/** The files of a bundle; nothing else may be in its directory. */
export const BUNDLE_FILES = {
  manifest: 'manifest.json',
  rows: 'rows.ndjson',
  seals: 'seals.ndjson',
  publicKey: 'public-key.txt',
  anchors: 'anchors.jsonl',
} as const;

/** A file as the manifest lists it. */
export interface BundleFile {
  /** Hex SHA-256 of the file's bytes. */
  readonly sha256: string;
  readonly bytes: number;
}

/** `manifest.json`: one line, its RFC 8785 encoding. */
export interface BundleManifest {
  readonly format: typeof BUNDLE_FORMAT;
  /** The export's window, `from <= occurred_at < to`, as ISO instants with milliseconds. */
  readonly window: { readonly from: string; readonly to: string };
  /** When the bundle was written (the exporting machine's clock; informative). */
  readonly exportedAt: string;
  /** The order of the values of each row's `row` array: the row hash's column order. */
  readonly columns: readonly string[];
  /** How many lines `rows.ndjson` holds. */
  readonly rows: number;
  /**
   * Which entries of the listed seals' row hashes are exported, as runs `[firstId, lastId]`: in the
   * order the entries appear in `seals.ndjson` (seal by seal, each in id order), an entry is exported
   * exactly when it lies between the entries with a run's first and last id, inclusive.
   */
  readonly exported: readonly (readonly [string, string])[];
  /** Rows of the window that no seal covered yet when it was exported: not in the bundle. */
  readonly unsealedRows: number;
  /** How many lines `seals.ndjson` holds: seals `firstSeal` to `lastSeal`. */
  readonly seals: number;
  readonly firstSeal: number | null;
  readonly lastSeal: number | null;
  /** Every other file of the bundle, by name. */
  readonly files: Readonly<Record<string, BundleFile>>;
  /** The key that signed the seals and this manifest: base64url of its 32 bytes. */
  readonly publicKey: string;
  /** Base64url Ed25519 signature of {@link manifestHash}'s 32 bytes. */
  readonly signature: string;
}

/** A seal as `seals.ndjson` holds it: as stored, and its row hashes `[id, hex]` in id order when it covers exported rows. */
export interface BundleSeal extends Seal {
  readonly rows?: readonly (readonly [string, string])[];
}

/** SHA-256 of the RFC 8785 encoding of the manifest without its `signature` member. */
export function manifestHash(manifest: Omit<BundleManifest, 'signature'> & { signature?: string }): Buffer {
  const { signature: _signature, ...content } = manifest;
  return createHash('sha256').update(canonicalize(content)!, 'utf8').digest();
}

export function signManifest(content: Omit<BundleManifest, 'signature'>, signingKey: KeyObject): BundleManifest {
  return { ...content, signature: sign(null, manifestHash(content), signingKey).toString('base64url') };
}

export function manifestSignatureValid(manifest: BundleManifest, publicKey: KeyObject): boolean {
  try {
    return verify(null, manifestHash(manifest), publicKey, Buffer.from(manifest.signature, 'base64url'));
  } catch {
    return false;
  }
}

/** `manifest.json`'s exact bytes: the manifest's RFC 8785 encoding and a line break. */
export const manifestText = (manifest: BundleManifest): string => `${canonicalize(manifest)!}\n`;

/** A line of `rows.ndjson`: the row's id, its seal, and its canonical encoding (an array: docs/integrity.md). */
export const rowLine = (id: string, seal: number, row: HashedRow): string => `{"id":${JSON.stringify(id)},"seal":${seal},"row":${encodeRow(row)}}\n`;

/** A line of `seals.ndjson`. */
export function sealLine(seal: Seal, rows: readonly (readonly [string, string])[] | undefined): string {
  const { sequence, fromXact, horizon, rowCount, firstId, lastId, rowsHash, previousHash, sealedAt, publicKey, hash, signature } = seal;
  const line: BundleSeal = { sequence, fromXact, horizon, rowCount, firstId, lastId, rowsHash, previousHash, sealedAt, publicKey, hash, signature, ...(rows ? { rows } : {}) };
  return `${JSON.stringify(line)}\n`;
}
