import { existsSync } from 'node:fs';
import { readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/embedded';
import { migrateDatabaseAt } from '../../src/db/migrate';
import { ensureTemplate, templateName } from './template-database';

const SNAPSHOT_PREFIX = 'audited-graphql-api-pglite-';

/**
 * Once per jest run, before any test file: what test databases start as when they are migrated.
 * On PostgreSQL the template they copy; on the embedded database a dump of a migrated PGlite,
 * named by the migrations like the template, which each file loads instead of migrating (the
 * workers inherit `TEST_PGLITE_SNAPSHOT`).
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) {
    await ensureTemplate(process.env.DATABASE_URL);
    return;
  }
  const snapshot = path.join(os.tmpdir(), `${SNAPSHOT_PREFIX}${templateName()}.tar`);
  // Snapshots of other migrations are of no more use.
  for (const file of await readdir(os.tmpdir())) {
    if (file.startsWith(SNAPSHOT_PREFIX) && file !== path.basename(snapshot)) await rm(path.join(os.tmpdir(), file), { force: true });
  }
  if (!existsSync(snapshot)) {
    const embedded = await startEmbeddedPostgres(undefined);
    try {
      await migrateDatabaseAt(embedded.url);
      // Written whole under another name first: a run that dies halfway leaves no snapshot that looks whole.
      const building = `${snapshot}.${process.pid}`;
      await writeFile(building, Buffer.from(await (await embedded.dump()).arrayBuffer()));
      await rename(building, snapshot);
    } finally {
      await embedded.stop();
    }
  }
  process.env.TEST_PGLITE_SNAPSHOT = snapshot;
}
