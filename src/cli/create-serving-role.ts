import { parseArgs } from 'node:util';
import { connectDatabase } from '../db/database';
import { createServingRole, SERVING_PRIVILEGES, ServingRoleError } from '../db/serving-role';
import { runCommand } from './command';
import { ConfigError } from '../config/settings';

const USAGE =
  'usage: MIGRATION_DATABASE_URL=<owner> [SERVING_ROLE_PASSWORD=<password>] npm run db:create-serving-role -- --role <name>';

/**
 * `npm run db:create-serving-role -- --role app`: creates (or repairs) the role the API serves
 * as, with exactly the privileges it needs. Runs as the owner role, MIGRATION_DATABASE_URL, after
 * `npm run db:migrate`. The password comes from SERVING_ROLE_PASSWORD, not the command line, so it
 * stays out of shell history and `ps`; it reaches PostgreSQL only as a SCRAM secret.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { role: { type: 'string' } } });
  const ownerUrl = process.env.MIGRATION_DATABASE_URL?.trim();
  if (!values.role || !ownerUrl) throw new ConfigError(USAGE);
  const password = process.env.SERVING_ROLE_PASSWORD || undefined;

  const database = connectDatabase(ownerUrl, { maxConnections: 1 });
  try {
    const { created } = await createServingRole(database.sql, { role: values.role, password });
    process.stdout.write(
      `${created ? 'created' : 'updated'} role "${values.role}" with exactly: ${SERVING_PRIVILEGES.join('; ')}\n`,
    );
  } finally {
    await database.close();
  }
}

runCommand(main, { verb: 'creating the serving role', expected: [ServingRoleError] });
