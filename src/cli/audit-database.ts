import type { KeyObject } from 'node:crypto';
import path from 'node:path';
import { createPublicKey } from 'node:crypto';
import { publicKeyFromText, readDevSigningKey } from '../audit/operations';
import { ConfigError } from '../config/config';
import { parseSigningKey } from '../config/signing-key';
import { parsePoolMode } from '../config/database-pooling';
import { connectDatabase, type Database } from '../db/database';
import { startEmbeddedPostgres } from '../db/embedded';

/**
 * What the audit commands work on: `url` (by default `DATABASE_URL`), or the embedded database
 * under `DATA_DIR` while no server has it open. `connections` lets a command run statements side by
 * side (verify recounts the rollups while it walks the rows); the embedded database serves one.
 */
export async function openTrail(url = setting('DATABASE_URL'), { connections = 1 }: { connections?: number } = {}): Promise<Database> {
  if (url) return connectDatabase(url, { maxConnections: connections, poolMode: parsePoolMode(setting('DATABASE_POOL_MODE')) });
  const embedded = await startEmbeddedPostgres(dataDir());
  const database = connectDatabase(embedded.url, { maxConnections: 1 });
  return {
    ...database,
    async close() {
      await database.close();
      await embedded.stop();
    },
  };
}

/**
 * The key seals must be signed with: `--public-key`, else the public half of `AUDIT_SIGNING_KEY`,
 * else of the development key under `DATA_DIR`.
 */
export async function trustedPublicKey(given: string | undefined): Promise<KeyObject> {
  if (given !== undefined) {
    const key = publicKeyFromText(given);
    if (!key) throw new ConfigError('--public-key must be an Ed25519 public key: base64url of its 32 bytes, as auditIntegrity and anchors show it');
    return key;
  }
  const configured = setting('AUDIT_SIGNING_KEY');
  if (configured) {
    const key = parseSigningKey(configured);
    if (!key) throw new ConfigError('AUDIT_SIGNING_KEY must be an Ed25519 private key: PKCS#8 PEM, or its base64 body on one line');
    return createPublicKey(key);
  }
  const development = await readDevSigningKey(dataDir());
  if (!development) throw new ConfigError('no key to check seals with: pass --public-key (docs/integrity.md)');
  return createPublicKey(development);
}

/**
 * The key that signs the seals, to sign what only its holder may vouch for (`what`: a retention, a
 * bundle's manifest): `AUDIT_SIGNING_KEY`, else the development key under `DATA_DIR` as the server
 * finds it (never created here).
 */
export async function sealSigningKey(what: string): Promise<KeyObject> {
  const configured = setting('AUDIT_SIGNING_KEY');
  if (configured) {
    const key = parseSigningKey(configured);
    if (!key) throw new ConfigError('AUDIT_SIGNING_KEY must be an Ed25519 private key: PKCS#8 PEM, or its base64 body on one line');
    return key;
  }
  const development = await readDevSigningKey(dataDir());
  if (!development) throw new ConfigError(`${what} is signed with the key that signs the seals: set AUDIT_SIGNING_KEY (docs/integrity.md)`);
  return development;
}

function dataDir(): string {
  return path.resolve(setting('DATA_DIR') ?? '.data');
}

export function setting(name: string): string | undefined {
  return process.env[name]?.trim() || undefined;
}
