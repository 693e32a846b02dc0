import 'reflect-metadata';
import { backstopSql } from '../audit/operations';
import { ConfigError } from '../config/settings';
import { auditedResourcesOf } from '../graphql/audit-actions';
import { API_FEATURES } from '../graphql/features';
import { runCommand } from './command';

/**
 * `npm run db:backstop -- <type>…`: prints the SQL that installs the database backstop of each
 * named audited resource (every one when none is named), for its migration: drizzle-kit cannot
 * declare triggers, so `npx drizzle-kit generate --custom --name <table>_audit_backstop` makes the
 * file and this fills it (docs/CONTRIBUTING.md). A changed declaration needs a migration that
 * drops the old triggers first; the server refuses to start until what is installed matches.
 */
async function main(): Promise<void> {
  const resources = auditedResourcesOf(API_FEATURES);
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((type) => !resources.some((resource) => resource.type === type));
  if (unknown.length > 0) throw new ConfigError(`no audited resource of type ${unknown.join(', ')}; declared: ${resources.map((resource) => resource.type).join(', ')}`);
  const chosen = wanted.length === 0 ? resources : resources.filter((resource) => wanted.includes(resource.type));
  process.stdout.write(`${chosen.map(backstopSql).join('\n--> statement-breakpoint\n')}\n`);
}

runCommand(main, { verb: 'db:backstop' });
