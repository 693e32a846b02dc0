import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Where development mode keeps its generated HS256 secret. */
export const devSecretPath = (dataDir: string): string => path.join(dataDir, 'jwt-secret');

/**
 * Returns the development signing secret under `dataDir`, creating it on first use so that tokens
 * minted by `npm run token` stay valid across restarts.
 */
export async function loadOrCreateDevSecret(dataDir: string): Promise<{ secret: string; created: boolean }> {
  const file = devSecretPath(dataDir);
  try {
    return { secret: (await readFile(file, 'utf8')).trim(), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  // 'wx' fails if another process created it meanwhile; then theirs wins.
  try {
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return { secret, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { secret: (await readFile(file, 'utf8')).trim(), created: false };
  }
}
