import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/*
 * The committed `schema.graphql` is one Relay's compiler accepts: `@connection` on both
 * connections (whose `PageInfo` it requires to have `startCursor` and `hasPreviousPage`), `@refetchable`
 * fragments (which need `Node` and `node(id:)`), and `@deleteRecord` on `deleteItem`'s payload.
 * relay-compiler runs as a project would run it, over a throwaway project.
 */

const ROOT = path.resolve(__dirname, '../..');
const COMPILER = path.join(ROOT, 'node_modules/.bin/relay-compiler');

/** A client module as a Relay app would write it; relay-compiler requires its operations be named after the file. */
const ITEM_LIST = `import { graphql } from 'react-relay';

export const items = graphql\`
  fragment ItemList_query on Query
  @refetchable(queryName: "ItemListPaginationQuery")
  @argumentDefinitions(first: { type: "Int", defaultValue: 10 }, after: { type: "String" }) {
    items(first: $first, after: $after) @connection(key: "ItemList_items") {
      edges { node { id ...ItemList_item } }
    }
  }
\`;

export const item = graphql\`
  fragment ItemList_item on Item @refetchable(queryName: "ItemListItemRefetchQuery") {
    id
    title
    updatedAt
  }
\`;

export const trail = graphql\`
  query ItemListTrailQuery($filter: AuditLogFilter, $first: Int!, $after: String) {
    auditLogs(filter: $filter, first: $first, after: $after) @connection(key: "ItemList_auditLogs", filters: ["filter"]) {
      edges { node { id action resourceId } }
    }
  }
\`;

export const remove = graphql\`
  mutation ItemListDeleteMutation($id: ID!) {
    deleteItem(id: $id) { deletedItemId @deleteRecord }
  }
\`;
`;

let project: string;
beforeAll(async () => {
  project = await mkdtemp(path.join(tmpdir(), 'relay-'));
  await mkdir(path.join(project, 'src/__generated__'), { recursive: true });
  await copyFile(path.join(ROOT, 'schema.graphql'), path.join(project, 'schema.graphql'));
  await writeFile(
    path.join(project, 'relay.config.json'),
    JSON.stringify({ src: './src', schema: './schema.graphql', language: 'typescript', artifactDirectory: './src/__generated__' }),
  );
  await writeFile(path.join(project, 'src/ItemList.ts'), ITEM_LIST);
});
afterAll(() => rm(project, { recursive: true, force: true }));

const artifact = (name: string) => readFile(path.join(project, 'src/__generated__', `${name}.graphql.ts`), 'utf8');

it('compiles connections, refetchable fragments and a deleting mutation against schema.graphql', async () => {
  // execFile rejects on a non-zero exit, with the compiler's errors in the message.
  const { stdout } = await promisify(execFile)(COMPILER, [], { cwd: project });
  expect(stdout).toContain('Compilation completed');

  const pagination = await artifact('ItemListPaginationQuery');
  for (const field of ['endCursor', 'hasNextPage']) expect(pagination).toContain(field);
  expect(await artifact('ItemListItemRefetchQuery')).toMatch(/node\(id: \$id\)/);
  expect(await artifact('ItemListTrailQuery')).toContain('ItemList_auditLogs');
  expect(await artifact('ItemListDeleteMutation')).toContain('"handle": "deleteRecord"');
});
