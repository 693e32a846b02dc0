import { createPrivateKey, type KeyObject } from 'node:crypto';

/**
 * Reads `AUDIT_SIGNING_KEY`: an Ed25519 private key as PKCS#8 PEM (what
 * `openssl genpkey -algorithm ed25519` prints), or that PEM's base64 body on one line, which suits
 * environment variables and secret stores that keep one line. `undefined` when it is not one.
 */
export function parseSigningKey(text: string): KeyObject | undefined {
  try {
    const key = text.includes('-----BEGIN')
      ? createPrivateKey({ key: text, format: 'pem' })
      : createPrivateKey({ key: Buffer.from(text.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'pkcs8' });
    return key.asymmetricKeyType === 'ed25519' ? key : undefined;
  } catch {
    return undefined;
  }
}
