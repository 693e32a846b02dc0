import { parseArgs } from 'node:util';
import { loadOrCreateDevSecret } from '../auth/dev-secret';
import { signToken } from '../auth/token-signer';
import { ConfigError, loadConfig } from '../config/config';

/**
 * `npm run token -- --sub alice [--role admin] [--expires 8h]`: prints a bearer token signed with
 * the secret the server uses (JWT_SECRET, or the development secret under DATA_DIR).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      role: { type: 'string', default: 'user' },
      expires: { type: 'string', default: '8h' },
    },
  });
  if (!values.sub) throw new ConfigError('usage: npm run token -- --sub <user id> [--role admin|user] [--expires 8h]');
  const config = loadConfig();
  if (config.jwksUrl) throw new ConfigError('JWKS_URL is set: tokens come from your identity provider');
  const secret = config.jwtSecret ?? (await loadOrCreateDevSecret(config.dataDir)).secret;
  process.stdout.write(`${await signToken(secret, { sub: values.sub, role: values.role, expiresIn: values.expires })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
