import path from 'node:path';
import { printSchema } from 'graphql';
import { auditActionTable } from '../audit-logs/query/audit-log.descriptions';
import { AUDIT_ACTIONS } from './audit-actions';
import { buildApiSchema } from './schema';

/** The committed SDL, at the project root (`src/` and `dist/` are at the same depth). */
export const SCHEMA_FILE = path.resolve(__dirname, '../../schema.graphql');
/** The document that holds the table of audit actions, between its markers. */
export const ACTION_TABLE_FILE = path.resolve(__dirname, '../../docs/audit-trail.md');

const TABLE_START = '<!-- audit-actions:start (npm run schema:emit) -->';
const TABLE_END = '<!-- audit-actions:end -->';

/** The SDL clients see, as it is committed in `schema.graphql`. */
export async function printApiSchema(): Promise<string> {
  return `${printSchema(await buildApiSchema())}\n`;
}

/**
 * `document` (the text of {@link ACTION_TABLE_FILE}) with the table of audit actions between its
 * markers rebuilt from the server's action registry.
 */
export function withActionTable(document: string): string {
  const start = document.indexOf(TABLE_START);
  const end = document.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`${ACTION_TABLE_FILE} lacks the markers ${TABLE_START} … ${TABLE_END}`);
  return `${document.slice(0, start + TABLE_START.length)}\n${auditActionTable(AUDIT_ACTIONS)}\n${document.slice(end)}`;
}
