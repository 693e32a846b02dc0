import { parseArgs } from 'node:util';
import { loadOrCreateDevSecret } from '../auth/dev-secret';
import { isAcceptableSubject, MAX_SUBJECT_LENGTH } from '../auth/token-claims';
import { signToken } from '../auth/token-signer';
import { ConfigError, loadConfig } from '../config/config';
import { parseDuration } from '../config/duration';
import { runCommand } from './command';

const USAGE = 'usage: npm run token -- --sub <user id> [--role admin|user] [--expires 8h] [--issuer iss] [--audience aud]';

/**
 * `npm run token -- --sub alice [--role admin] [--expires 8h]`: prints a bearer token signed with
 * the secret the server uses (JWT_SECRET, or the development secret under DATA_DIR), carrying the
 * issuer and audience the server checks (JWT_ISSUER, JWT_AUDIENCE) unless told otherwise. A
 * lifetime over JWT_MAX_AGE is refused here, since the server would refuse the token.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      role: { type: 'string', default: 'user' },
      expires: { type: 'string', default: '8h' },
      issuer: { type: 'string' },
      audience: { type: 'string' },
    },
  });
  if (!values.sub) throw new ConfigError(USAGE);
  if (!isAcceptableSubject(values.sub)) {
    throw new ConfigError(`--sub must be 1 to ${MAX_SUBJECT_LENGTH} characters in NFC, without control or format characters: the server would refuse the token`);
  }
  const config = loadConfig();
  if (config.jwksUrl) throw new ConfigError('JWKS_URL is set: tokens come from your identity provider');
  const lifetime = parseDuration(values.expires);
  if (lifetime === undefined || lifetime < 1) throw new ConfigError(`--expires must be a duration such as 30m or 8h, got "${values.expires}"`);
  if (lifetime > config.jwt.maxAgeSeconds) {
    throw new ConfigError(`--expires ${values.expires} exceeds JWT_MAX_AGE (${config.jwt.maxAgeSeconds}s): the server would refuse the token`);
  }
  const secret = config.jwtSecret ?? (await loadOrCreateDevSecret(config.dataDir)).secret;
  const token = await signToken(secret, {
    sub: values.sub,
    role: values.role,
    expiresIn: `${lifetime}s`,
    issuer: values.issuer ?? config.jwt.issuer,
    audience: values.audience ?? config.jwt.audience,
  });
  process.stdout.write(`${token}\n`);
}

runCommand(main, { verb: 'token' });
