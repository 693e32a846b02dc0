import 'reflect-metadata';
import { readFile, writeFile } from 'node:fs/promises';
import { ACTION_TABLE_FILE, SCHEMA_FILE, printApiSchema, withActionTable } from '../graphql/emitted-files';
import { runCommand } from './command';

/** `npm run schema:emit`: rewrites `schema.graphql` and the action table of `docs/audit-trail.md` from the code. */
async function main(): Promise<void> {
  await writeFile(SCHEMA_FILE, await printApiSchema());
  await writeFile(ACTION_TABLE_FILE, withActionTable(await readFile(ACTION_TABLE_FILE, 'utf8')));
  process.stdout.write(`wrote ${SCHEMA_FILE} and the action table in ${ACTION_TABLE_FILE}\n`);
}

// A development tool with no data to leak: a failure's message (a schema error, a missing file) is what to fix.
runCommand(main, { verb: 'schema:emit', expected: [Error] });
