import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { graphql } from 'graphql';
import { buildSchema } from 'type-graphql';
import type { Context } from '../../src/api/context';
import { WITHHELD } from '../../src/audit';
import { backstopSql } from '../../src/audit/operations';
import { AuditActionRegistry, AuditTrail, BUILT_IN_AUDIT_ACTIONS } from '../../src/audit/wiring';
import { Role } from '../../src/auth/viewer';
import { connectDatabase } from '../../src/db/database';
import { TrailReads } from '../../src/db/trail-reads';
import { API_FEATURES } from '../../src/graphql/features';
import { tracedRequest } from '../support/audit-rows';
import { AUTHENTICATION_REQUIRED, dataOf, expectFieldError } from '../support/errors';
import { admin, alice, bob, startTestServer, type TestServer } from '../support/test-server';
import { noteResource } from '../fixtures/notes/note.audit';
import { feature as notesFeature } from '../fixtures/notes/note.feature';
import { NoteResolver } from '../fixtures/notes/note.resolver';

/*
 * Adding an audited resource, complete: tests/fixtures/notes/ is a feature folder as it would sit in
 * `src/` (table, migration, audit declaration, type with global ids and a connection, resolver, and
 * note.feature.ts with its permissions, node() type and actions), and nothing else changes. Served
 * next to the API's own features over real HTTP, its admin reads, changes, denials and diffs are
 * recorded by the same machinery as items'.
 */

let server: TestServer;
const NOTES_MIGRATION = path.join(__dirname, '../fixtures/notes/0001_notes.sql');

beforeAll(async () => {
  // The feature's migration (its table and audit backstop), as `npm run db:migrate` would apply it.
  server = await startTestServer({}, { features: [...API_FEATURES, notesFeature], migrations: [NOTES_MIGRATION] });
});
afterAll(() => server?.stop());

const rowsOf = async (query: string, as?: typeof alice) => {
  const response = await tracedRequest(server, query, as ? { as } : {});
  return { body: response.body, response, rows: (await response.rows()).map(({ action, resource_type, resource_id, outcome, admin_bypass, details, user_id }) => ({ action, resource_type, resource_id, outcome, admin_bypass, details, user_id })) };
};

describe('a second audited resource, declared in its own folder and served over HTTP', () => {
  let noteId: string;
  let rowId: string;

  it('records a creation with its snapshot (ignored fields left out, sensitive ones withheld) and answers a global id', async () => {
    const { body, rows } = await rowsOf('mutation { createNote(body: "hello", pin: "1234") { id body } }', alice);
    noteId = body.data.createNote.id;
    rowId = Buffer.from(noteId, 'base64url').toString('utf8').replace(/^Note:/, '');
    expect(Buffer.from(noteId, 'base64url').toString('utf8')).toMatch(/^Note:[0-9]+$/);
    expect(rows).toEqual([
      {
        action: 'create_note',
        resource_type: 'note',
        resource_id: rowId,
        outcome: 'success',
        admin_bypass: false,
        details: { after: { id: rowId, ownerId: 'alice', body: 'hello', pin: WITHHELD } },
        user_id: 'alice',
      },
    ]);
  });

  it("pages through a connection, and records an admin's read of another user's notes with the fields read", async () => {
    const { body, rows } = await rowsOf('{ notes(first: 10) { totalCount edges { cursor node { id body } } pageInfo { hasNextPage } } }', admin);
    expect(body.data.notes).toMatchObject({ totalCount: 1, edges: [{ node: { id: noteId, body: 'hello' } }], pageInfo: { hasNextPage: false } });
    expect(rows).toEqual([expect.objectContaining({ action: 'admin_view_note', resource_id: rowId, admin_bypass: true, details: { fields: ['id', 'body'] } })]);
  });

  it("answers node(id:) through the note's own query: the admin's read recorded, another user's answered null and recorded as denied", async () => {
    const asAdmin = await rowsOf(`{ node(id: "${noteId}") { id ... on Note { body } } }`, admin);
    expect(asAdmin.body.data).toEqual({ node: { id: noteId, body: 'hello' } });
    expect(asAdmin.rows).toEqual([expect.objectContaining({ action: 'admin_view_note', resource_id: rowId, admin_bypass: true })]);
    const asBob = await rowsOf(`{ node(id: "${noteId}") { id } }`, bob);
    expect(asBob.body.data).toEqual({ node: null });
    expect(asBob.rows).toEqual([expect.objectContaining({ action: 'view_note', outcome: 'denied', resource_id: rowId, user_id: 'bob' })]);
  });

  it('refuses an anonymous caller by its declared permissions, recorded as access_denied', async () => {
    const { response, rows } = await rowsOf('{ notes(first: 1) { totalCount } }');
    expectFieldError(response, { path: 'notes', data: null, ...AUTHENTICATION_REQUIRED });
    expect(rows).toEqual([expect.objectContaining({ action: 'access_denied', outcome: 'denied', details: expect.objectContaining({ reason: 'unauthenticated', fields: ['Query.notes'] }) })]);
  });

  it("records an admin's change as a bypass, diffing the changed fields and withholding sensitive values", async () => {
    const { body, rows } = await rowsOf(`mutation { updateNote(id: "${noteId}", body: "edited", pin: "9999") { id } }`, admin);
    expect(body.errors).toBeUndefined();
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'update_note',
        outcome: 'success',
        admin_bypass: true,
        details: { changes: { body: { from: 'hello', to: 'edited' }, pin: { from: WITHHELD, to: WITHHELD } } },
      }),
      // The note the mutation returns is an admin read too.
      expect.objectContaining({ action: 'admin_view_note', details: { fields: ['id'] } }),
    ]);
    const [stored] = await server.sql`select body, pin from notes where id = ${rowId}`;
    expect(stored).toEqual({ body: 'edited', pin: '9999' });
  });

  it("refuses another user's change as NOT_FOUND, records it as denied, and changes nothing", async () => {
    const { body, rows } = await rowsOf(`mutation { updateNote(id: "${noteId}", body: "mine", pin: "0") { id } }`, bob);
    expect(body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(rows).toEqual([
      expect.objectContaining({ action: 'update_note', outcome: 'denied', resource_id: rowId, details: { reason: 'not_owner', ownerId: 'alice' }, user_id: 'bob' }),
    ]);
    const [stored] = await server.sql`select body from notes where id = ${rowId}`;
    expect(stored!.body).toBe('edited');
  });

  it('scopes reads to the owner: another user sees nothing and nothing is recorded', async () => {
    const { body, rows } = await rowsOf('{ notes(first: 10) { totalCount edges { node { id } } } }', bob);
    expect(body.data).toEqual({ notes: { totalCount: 0, edges: [] } });
    expect(rows).toEqual([]);
  });

  it('records a deletion with the snapshot of what was deleted, and a second one as denied, reason not_found', async () => {
    const deleted = await rowsOf(`mutation { deleteNote(id: "${noteId}") }`, alice);
    expect(dataOf(deleted.response)).toEqual({ deleteNote: true });
    expect(deleted.rows).toEqual([
      expect.objectContaining({
        action: 'delete_note',
        outcome: 'success',
        admin_bypass: false,
        details: { before: { id: rowId, ownerId: 'alice', body: 'edited', pin: WITHHELD } },
      }),
    ]);
    const again = await rowsOf(`mutation { deleteNote(id: "${noteId}") }`, alice);
    expect(again.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(again.rows).toEqual([expect.objectContaining({ action: 'delete_note', outcome: 'denied', details: { reason: 'not_found' } })]);
  });

  it('installs its audit backstop as npm run db:backstop writes it from the declaration', () => {
    // The server refuses to start on a backstop unlike the declaration; this names what to paste.
    expect(readFileSync(NOTES_MIGRATION, 'utf8')).toContain(backstopSql(noteResource));
  });

  it('lists its actions in the API the server serves: auditActions names them', async () => {
    const { body } = await rowsOf('{ auditActions { name resourceType } }', admin);
    expect(body.data.auditActions).toEqual(
      expect.arrayContaining(['admin_view_note', 'view_note', 'list_notes', 'create_note', 'update_note', 'delete_note'].map((name) => ({ name, resourceType: 'note' }))),
    );
  });
});

describe('a resource whose actions the server does not list', () => {
  it('is refused before anything is written: a row can only carry an action of the registry', async () => {
    const schema = await buildSchema({ resolvers: [NoteResolver], validate: false });
    const database = connectDatabase(server.database.url, { maxConnections: 1 });
    const db = database.db;
    const unlisted = new AuditTrail({ db, actions: new AuditActionRegistry(BUILT_IN_AUDIT_ACTIONS) });
    const viewer = { id: 'alice', role: Role.USER };
    const audit = unlisted.forRequest({ viewer, requestId: 'note-unlisted', ip: null, userAgent: null, accessReason: null, operationName: null });
    const result = await graphql({ schema, source: 'mutation { createNote(body: "unlisted") { id } }', contextValue: { viewer, db, trailReads: TrailReads.primaryOnly(database), audit, accessLog: { showsAdmin: 'role' } } satisfies Context });
    // In process, unformatted: over HTTP the client would see only INTERNAL_SERVER_ERROR.
    expect(result.errors?.[0]?.message).toBe("audit action create_note is not in the server's registry (src/graphql/audit-actions.ts)");
    expect(await server.sql`select id from notes where body = 'unlisted'`).toHaveLength(0);
    expect(await server.sql`select id from audit_logs where request_id = 'note-unlisted'`).toHaveLength(0);
    await database.close();
  });
});
