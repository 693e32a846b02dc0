import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { runMigrations } from '../../src/db/migrate';
import { connectDatabase } from '../../src/db/database';
import { createServingRole } from '../../src/db/serving-role';

/** A login role made as `npm run db:create-serving-role` makes it, for one test database. */
export interface TestServingRole {
  readonly name: string;
  /** `ownerUrl` with the serving role as its user. */
  readonly url: string;
  /** Drops the role; call it after dropping its database (roles are cluster-wide). */
  drop(): Promise<void>;
}

/** A role name no other test run uses: roles belong to the whole PostgreSQL cluster. */
export function uniqueRoleName(purpose: string): string {
  return `test_${purpose}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Migrates the database at `ownerUrl` as its owner, then creates a serving role for it. */
export async function createTestServingRole(ownerUrl: string): Promise<TestServingRole> {
  const owner = connectDatabase(ownerUrl, { maxConnections: 1 });
  const name = uniqueRoleName('serving');
  try {
    await runMigrations(owner.db);
    await createServingRole(owner.sql, { role: name });
  } finally {
    await owner.close();
  }
  const url = new URL(ownerUrl);
  url.username = name;
  url.password = '';
  return { name, url: url.toString(), drop: () => dropRoles(ownerUrl, name) };
}

/** Drops `roles` (if they exist) through a connection to the cluster of `anyUrl`. */
export async function dropRoles(anyUrl: string, ...roles: string[]): Promise<void> {
  const url = new URL(anyUrl);
  url.pathname = '/postgres';
  const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
  try {
    for (const role of roles) await sql.unsafe(`drop role if exists "${role}"`);
  } finally {
    await sql.end();
  }
}
