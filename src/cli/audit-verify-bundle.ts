import { readFile, stat } from 'node:fs/promises';
import { parseAnchors, publicKeyFromText, verifyBundle, type VerifyBundleResult } from '../audit/operations';
import { ConfigError } from '../config/config';

/**
 * `npm run audit:verify -- --bundle DIR [--public-key KEY] [--anchors FILE]`: checks an export
 * bundle with no database and no network (docs/integrity.md, Export bundles). Prints which key it trusted —
 * `--public-key`, else the bundle's own — then `OK` with counts (exit code 0) or `FAILED` with the
 * first fault, naming the file, line, seal and row where it can (1). Throws when it could not check.
 */
export async function verifyBundleCommand(dir: string, publicKeyOption: string | undefined, anchorsFile: string | undefined): Promise<number> {
  const publicKey = publicKeyOption === undefined ? undefined : publicKeyFromText(publicKeyOption);
  if (publicKeyOption !== undefined && !publicKey) {
    throw new ConfigError('--public-key must be an Ed25519 public key: base64url of its 32 bytes, as auditIntegrity and anchors show it');
  }
  const anchors = anchorsFile === undefined ? [] : parseAnchors(await readFile(anchorsFile, 'utf8'));
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new ConfigError(`--bundle: ${dir} is not a directory`);

  const { text, code } = bundleReport(await verifyBundle(dir, { publicKey, anchors }));
  process.stdout.write(text);
  return code;
}

/** What `audit:verify --bundle` prints for `result` (the key it trusted, then `OK` or `FAILED`), and its exit code. */
export function bundleReport(result: VerifyBundleResult): { text: string; code: 0 | 1 } {
  const trust = !result.trusted
    ? ''
    : result.trusted.given
      ? `trusted public key ${result.trusted.publicKey} (--public-key)\n`
      : `trusted public key ${result.trusted.publicKey}, the bundle's own: pass the operator's key with --public-key, or a bundle re-signed with another key passes too\n`;
  if (!result.ok) {
    const where = [
      result.file !== undefined && (result.line !== undefined ? `${result.file} line ${result.line}` : result.file),
      result.seal !== undefined && `seal ${result.seal}`,
      result.row !== undefined && `row ${result.row}`,
    ].filter(Boolean);
    return { text: `${trust}FAILED: ${where.length ? `${where.join(', ')}: ` : ''}${result.reason}\n`, code: 1 };
  }
  const seals =
    result.seals === 0
      ? 'no seals'
      : `seals ${result.firstSeal}–${result.lastSeal} chained and signed (${result.listedSeals} with their row hashes, which also list ${result.undisclosedRows} rows outside the window)`;
  return {
    text:
      `${trust}OK: ${result.rows} rows unchanged and in their seals; ${seals}; ${result.files} files match the signed manifest; ` +
      `window ${result.window.from} to ${result.window.to}, ${result.unsealedRows} rows of it not sealed yet when exported; ` +
      `${result.anchorsHeld} anchors hold, ${result.anchorsOutside} outside the bundle's seals\n`,
    code: 0,
  };
}
