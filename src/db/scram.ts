import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** PostgreSQL's own default (`scram_iterations`). */
const ITERATIONS = 4096;

/**
 * The SCRAM-SHA-256 secret PostgreSQL stores for `password` (RFC 5802/7677, PostgreSQL's
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` format). Sending this in
 * `CREATE/ALTER ROLE … PASSWORD` instead of the password keeps the password itself out of the
 * server's statement and error logs, as psql's `\password` does.
 *
 * PostgreSQL normalises passwords with SASLprep before hashing; printable ASCII, which callers
 * are held to, is left unchanged by it.
 */
export function scramSha256Secret(password: string, salt: Buffer = randomBytes(16)): string {
  const salted = pbkdf2Sync(password, salt, ITERATIONS, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest('base64');
  const serverKey = createHmac('sha256', salted).update('Server Key').digest('base64');
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString('base64')}$${storedKey}:${serverKey}`;
}
