import 'reflect-metadata';
import { readFile, writeFile } from 'node:fs/promises';
import { README_FILE, SCHEMA_FILE, printApiSchema, withActionTable } from '../graphql/emitted-files';

/** `npm run schema:emit`: rewrites `schema.graphql` and the README's action table from the code. */
async function main(): Promise<void> {
  await writeFile(SCHEMA_FILE, await printApiSchema());
  await writeFile(README_FILE, await withActionTable(await readFile(README_FILE, 'utf8')));
  process.stdout.write(`wrote ${SCHEMA_FILE} and the action table in ${README_FILE}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
