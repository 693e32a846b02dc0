import 'reflect-metadata';
import { readFile } from 'node:fs/promises';
import { ACTION_TABLE_FILE, SCHEMA_FILE, printApiSchema, withActionTable } from '../src/graphql/emitted-files';

// Both are emitted from the code: run `npm run schema:emit` after changing types or actions.
describe('emitted files', () => {
  it('schema.graphql matches the schema the code builds', async () => {
    expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(await printApiSchema());
  });

  it("docs/audit-trail.md's table of audit actions matches the action registry", async () => {
    const document = await readFile(ACTION_TABLE_FILE, 'utf8');
    expect(document).toBe(withActionTable(document));
  });
});
