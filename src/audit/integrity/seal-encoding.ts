import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';

/** What a seal's hash covers, in the seal's own words (docs/integrity.md). */
export interface SealContent {
  readonly sequence: number;
  readonly fromXact: string;
  readonly horizon: string;
  readonly rowCount: number;
  readonly firstId: string;
  readonly lastId: string;
  readonly rowsHash: string;
  readonly previousHash: string;
  /** UTC with six fraction digits, like a row's `occurred_at`. */
  readonly sealedAt: string;
  readonly publicKey: string;
}

/** A seal as stored: its content, hash and signature. */
export interface Seal extends SealContent {
  readonly hash: string;
  readonly signature: string;
}

/** The `previousHash` of the first seal. */
export const GENESIS_HASH = '0'.repeat(64);

/** Hex SHA-256 of the RFC 8785 encoding of the content's ten fields (an object: keys sorted by the encoding). */
export function sealHash(content: SealContent): string {
  const { sequence, fromXact, horizon, rowCount, firstId, lastId, rowsHash, previousHash, sealedAt, publicKey } = content;
  const encoded = canonicalize({ sequence, fromXact, horizon, rowCount, firstId, lastId, rowsHash, previousHash, sealedAt, publicKey })!;
  return createHash('sha256').update(encoded, 'utf8').digest('hex');
}

/** Ed25519 signature of the hash's 32 bytes, base64url. */
export function signSealHash(hash: string, privateKey: KeyObject): string {
  return sign(null, Buffer.from(hash, 'hex'), privateKey).toString('base64url');
}

export function sealSignatureValid(seal: Seal, publicKey: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(seal.hash, 'hex'), publicKey, Buffer.from(seal.signature, 'base64url'));
  } catch {
    return false;
  }
}

/** The public half of `key` as seals and anchors name it: base64url of its 32 raw bytes. */
export function publicKeyText(key: KeyObject): string {
  return (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' }).x!;
}

/** The Ed25519 public key named by {@link publicKeyText}'s form; `undefined` if `text` is not one. */
export function publicKeyFromText(text: string): KeyObject | undefined {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: text }, format: 'jwk' });
    return publicKeyText(key) === text ? key : undefined;
  } catch {
    return undefined;
  }
}
