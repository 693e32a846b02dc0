import 'reflect-metadata';
import { readFile } from 'node:fs/promises';
import { SCHEMA_FILE, printApiSchema } from '../src/graphql/schema-file';

describe('schema.graphql', () => {
  it('matches the schema the code builds (run `npm run schema:emit` after changing types)', async () => {
    expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(await printApiSchema());
  });
});
