import { ensureTemplate } from './template-database';

/** Once per jest run, before any test file: the migrated template test servers copy (PostgreSQL only). */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) await ensureTemplate(process.env.DATABASE_URL);
}
