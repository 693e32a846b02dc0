import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { migrateDatabaseAt, MIGRATIONS_FOLDER } from '../../src/db/migrate';

/**
 * A database with every migration applied, which test databases are copied from (`CREATE DATABASE
 * … TEMPLATE`) instead of each migrating on its own. Named by the migrations' contents, so a run
 * reuses it until a migration changes, and never one made from other migrations.
 */
export function templateName(): string {
  const digest = createHash('sha256');
  for (const file of readdirSync(MIGRATIONS_FOLDER).filter((name) => name.endsWith('.sql')).sort()) {
    digest.update(file).update(readFileSync(path.join(MIGRATIONS_FOLDER, file)));
  }
  return `test_template_${digest.digest('hex').slice(0, 16)}`;
}

/** The URL of database `name` on the server of `serverUrl`. */
export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Makes the template on the PostgreSQL at `serverUrl` unless it is there, and drops templates of
 * other migrations. Built under a name of its own and renamed when complete, so a run that dies
 * halfway leaves no template that looks whole.
 */
export async function ensureTemplate(serverUrl: string): Promise<void> {
  const name = templateName();
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    const stale = await admin<{ datname: string }[]>`
      select datname from pg_database where datname like 'test\\_template\\_%' and datname <> ${name}`;
    for (const { datname } of stale) await admin.unsafe(`drop database if exists "${datname}" with (force)`);
    if ((await admin`select 1 from pg_database where datname = ${name}`).length > 0) return;
    const building = `${name}_building_${process.pid}`;
    await admin.unsafe(`create database "${building}"`);
    try {
      await migrateDatabaseAt(databaseUrl(serverUrl, building));
      // Another run may have finished the same template first: then its copy serves.
      await admin.unsafe(`alter database "${building}" rename to "${name}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error;
      });
    } finally {
      await admin.unsafe(`drop database if exists "${building}" with (force)`);
    }
  } finally {
    await admin.end();
  }
}
