import path from 'node:path';
import { printSchema } from 'graphql';
import { buildApiSchema } from './schema';

/** The committed SDL, at the project root (`src/` and `dist/` are at the same depth). */
export const SCHEMA_FILE = path.resolve(__dirname, '../../schema.graphql');

/** The SDL clients see, as it is committed in `schema.graphql`. */
export async function printApiSchema(): Promise<string> {
  return `${printSchema(await buildApiSchema())}\n`;
}
