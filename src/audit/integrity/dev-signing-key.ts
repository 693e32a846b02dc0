import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Where development mode keeps its generated seal-signing key (PKCS#8 PEM). */
export const devSigningKeyPath = (dataDir: string): string => path.join(dataDir, 'audit-signing-key.pem');

/** The development key under `dataDir` if there is one (for the CLIs, which never create it). */
export async function readDevSigningKey(dataDir: string): Promise<KeyObject | undefined> {
  try {
    return createPrivateKey(await readFile(devSigningKeyPath(dataDir), 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The development seal-signing key under `dataDir`, created on first use so the chain stays
 * verifiable across restarts, like the development JWT secret.
 */
export async function loadOrCreateDevSigningKey(dataDir: string): Promise<{ key: KeyObject; created: boolean }> {
  const existing = await readDevSigningKey(dataDir);
  if (existing) return { key: existing, created: false };
  await mkdir(dataDir, { recursive: true });
  const { privateKey } = generateKeyPairSync('ed25519');
  // 'wx' fails if another process created it meanwhile; then theirs wins.
  try {
    await writeFile(devSigningKeyPath(dataDir), privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
    return { key: privateKey, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { key: (await readDevSigningKey(dataDir))!, created: false };
  }
}
