import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  // Every feature's tables: `<entity>.table.ts`.
  schema: './src/**/*.table.ts',
  out: './drizzle',
  // Only `db:generate` runs here; it reads the schema and never connects.
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
});
