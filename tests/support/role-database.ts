import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/**
 * A fresh database owned by a fresh login role that is not a superuser, on the PostgreSQL at
 * `DATABASE_URL`: the API connects as that role, so revoking one of its privileges takes effect
 * (a superuser's cannot be revoked).
 */
export interface RoleDatabase {
  /** Connection URL as the role. */
  readonly url: string;
  readonly role: string;
  /** A superuser connection to the database, to change the role's privileges. */
  readonly admin: postgres.Sql;
  /** Drops the database and the role. */
  drop(): Promise<void>;
}

export async function createRoleDatabase(): Promise<RoleDatabase> {
  const serverUrl = process.env.DATABASE_URL!;
  const name = `test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const server = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await server.unsafe(`create role "${name}" login`);
    await server.unsafe(`create database "${name}" owner "${name}"`);
  } finally {
    await server.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const admin = postgres(url.toString(), { max: 1, onnotice: () => {} });
  url.username = name;
  url.password = '';
  return {
    url: url.toString(),
    role: name,
    admin,
    async drop() {
      await admin.end();
      const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`drop database if exists "${name}" with (force)`);
        await sql.unsafe(`drop role if exists "${name}"`);
      } finally {
        await sql.end();
      }
    },
  };
}
