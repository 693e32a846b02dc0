import path from 'node:path';
import { printSchema } from 'graphql';
import { auditActionTable } from '../audit-logs/audit-log.descriptions';
import { buildApiSchema } from './schema';

/** The committed SDL, at the project root (`src/` and `dist/` are at the same depth). */
export const SCHEMA_FILE = path.resolve(__dirname, '../../schema.graphql');
export const README_FILE = path.resolve(__dirname, '../../README.md');

const TABLE_START = '<!-- audit-actions:start (npm run schema:emit) -->';
const TABLE_END = '<!-- audit-actions:end -->';

/** The SDL clients see, as it is committed in `schema.graphql`. */
export async function printApiSchema(): Promise<string> {
  return `${printSchema(await buildApiSchema())}\n`;
}

/**
 * `readme` with the table of audit actions between its markers rebuilt from the action registry
 * (the schema is built first, so every feature has defined its actions).
 */
export async function withActionTable(readme: string): Promise<string> {
  await buildApiSchema();
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the markers ${TABLE_START} … ${TABLE_END}`);
  return `${readme.slice(0, start + TABLE_START.length)}\n${auditActionTable()}\n${readme.slice(end)}`;
}
