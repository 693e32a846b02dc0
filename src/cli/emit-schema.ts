import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import { SCHEMA_FILE, printApiSchema } from '../graphql/schema-file';

/** `npm run schema:emit`: rewrites the committed `schema.graphql` from the code. */
printApiSchema()
  .then((sdl) => writeFile(SCHEMA_FILE, sdl))
  .then(() => process.stdout.write(`wrote ${SCHEMA_FILE}\n`))
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
