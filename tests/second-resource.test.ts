import 'reflect-metadata';
import { eq, sql as raw } from 'drizzle-orm';
import { bigint, pgTable, text } from 'drizzle-orm/pg-core';
import { graphql, type GraphQLSchema } from 'graphql';
import { Arg, Ctx, Field, ID, Mutation, ObjectType, Query, Resolver, buildSchema } from 'type-graphql';
import type { Context } from '../src/api/context';
import { AuditedObject, AuditedReads, OwnedRecords, WITHHELD, auditedResource } from '../src/audit';
import { AuditActionRegistry, AuditTrail, BUILT_IN_AUDIT_ACTIONS, assertAuditCoverage } from '../src/audit/wiring';
import { Role, type Viewer } from '../src/auth/viewer';
import { connectDatabase, type Database } from '../src/db/database';
import { runMigrations } from '../src/db/migrate';
import { createTestDatabase, type TestDatabase } from './support/database';

/*
 * The audit module is generic: a resource declared here, and nowhere in `src/`, gets its admin
 * reads, changes, denials and diffs recorded by the same machinery as items, with none of the
 * Item feature's code. In-process schema, real database.
 */

const notes = pgTable('notes', {
  id: bigint('id', { mode: 'bigint' }).primaryKey().generatedAlwaysAsIdentity(),
  ownerId: text('owner_id').notNull(),
  body: text('body').notNull(),
  pin: text('pin'),
  internalTag: text('internal_tag'),
});

const noteResource = auditedResource({ type: 'note', table: notes, owner: 'ownerId', ignore: ['internalTag'], sensitive: ['pin'] });

@ObjectType()
@AuditedObject(noteResource)
class Note {
  @Field(() => ID) id!: string;
  @Field(() => ID) ownerId!: string;
  @Field(() => String) body!: string;
  @Field(() => String, { nullable: true }) pin!: string | null;

  static fromRow(row: typeof notes.$inferSelect): Note {
    return Object.assign(new Note(), { ...row, id: row.id.toString() });
  }
}

const records = (context: Context) => new OwnedRecords(noteResource, { db: context.db, viewer: context.viewer!, audit: context.audit });

@Resolver(() => Note)
class NoteResolver {
  @Query(() => [Note]) @AuditedReads()
  async notes(@Ctx() context: Context): Promise<Note[]> {
    const rows = await context.db.select().from(notes).where(records(context).visible()).orderBy(notes.id);
    return rows.map(Note.fromRow);
  }

  @Mutation(() => Note) @AuditedReads()
  async createNote(@Arg('body', () => String) body: string, @Arg('pin', () => String, { nullable: true }) pin: string | null, @Ctx() context: Context) {
    return Note.fromRow(await records(context).create({ body, pin, internalTag: 'x' }));
  }

  @Mutation(() => Note) @AuditedReads()
  async updateNote(@Arg('id', () => ID) id: string, @Arg('body', () => String) body: string, @Arg('pin', () => String) pin: string, @Ctx() context: Context) {
    return Note.fromRow(await records(context).update(BigInt(id), () => ({ body, pin, internalTag: "y" })));
  }

  @Mutation(() => Boolean)
  async deleteNote(@Arg('id', () => ID) id: string, @Ctx() context: Context) {
    await records(context).delete(BigInt(id));
    return true;
  }
}

let testDatabase: TestDatabase;
let database: Database;
let schema: GraphQLSchema;
let trail: AuditTrail;
let requestCount = 0;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = connectDatabase(testDatabase.url, { maxConnections: testDatabase.embedded ? 1 : 4 });
  await runMigrations(database.db);
  await database.db.execute(
    raw`create table notes (id bigint generated always as identity primary key, owner_id text not null, body text not null, pin text, internal_tag text)`,
  );
  schema = await buildSchema({ resolvers: [NoteResolver], validate: false });
  assertAuditCoverage(schema);
  // The resource's actions join the trail's own in the registry, as src/graphql/audit-actions.ts lists items'.
  trail = new AuditTrail({ db: database.db, actions: new AuditActionRegistry([...BUILT_IN_AUDIT_ACTIONS, ...Object.values(noteResource.actions)]) });
});
afterAll(async () => {
  await database.close();
  await testDatabase.drop();
});

const alice: Viewer = { id: 'alice', role: Role.USER };
const bob: Viewer = { id: 'bob', role: Role.USER };
const admin: Viewer = { id: 'root', role: Role.ADMIN };

/** Runs one operation as `viewer`, completing its trail as the audit plugin does; returns its rows. */
async function run(viewer: Viewer, source: string) {
  const requestId = `note-${++requestCount}`;
  const audit = trail.forRequest({ viewer, requestId, ip: null, userAgent: null, operationName: null });
  const result = await graphql({ schema, source, contextValue: { viewer, db: database.db, audit } satisfies Context });
  await audit.flush();
  const rows = await database.sql`
    select action, resource_type, resource_id, outcome, admin_bypass, details, user_id
    from audit_logs where request_id = ${requestId} order by id`;
  return { result, rows: [...rows] };
}

describe('a second audited resource, declared in the test', () => {
  let noteId: string;

  it('records a creation with its snapshot: ignored fields left out, sensitive ones withheld', async () => {
    const { result, rows } = await run(alice, 'mutation { createNote(body: "hello", pin: "1234") { id } }');
    noteId = (result.data as any).createNote.id;
    expect(rows).toEqual([
      {
        action: 'create_note',
        resource_type: 'note',
        resource_id: noteId,
        outcome: 'success',
        admin_bypass: false,
        details: { after: { id: noteId, ownerId: 'alice', body: 'hello', pin: WITHHELD } },
        user_id: 'alice',
      },
    ]);
  });

  it("records an admin's read of another user's note, with the fields read", async () => {
    const { rows } = await run(admin, '{ notes { body } }');
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'admin_view_note',
        resource_id: noteId,
        admin_bypass: true,
        details: { fields: ['body'] },
      }),
    ]);
  });

  it("records an admin's change as a bypass, diffing the changed fields and withholding sensitive values", async () => {
    const { result, rows } = await run(admin, `mutation { updateNote(id: "${noteId}", body: "edited", pin: "9999") { id } }`);
    expect(result.errors).toBeUndefined();
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
    const [stored] = await database.db.select().from(notes).where(eq(notes.id, BigInt(noteId)));
    expect(stored).toMatchObject({ body: 'edited', pin: '9999' });
  });

  it("refuses another user's change as NOT_FOUND, records it as denied, and changes nothing", async () => {
    const { result, rows } = await run(bob, `mutation { updateNote(id: "${noteId}", body: "mine", pin: "0") { id } }`);
    expect(result.errors?.[0]?.message).toBe('note not found');
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'update_note',
        outcome: 'denied',
        resource_id: noteId,
        details: { reason: 'not_owner', ownerId: 'alice' },
        user_id: 'bob',
      }),
    ]);
    const [stored] = await database.db.select().from(notes).where(eq(notes.id, BigInt(noteId)));
    expect(stored!.body).toBe('edited');
  });

  it('scopes reads to the owner: another user sees nothing and nothing is recorded', async () => {
    const { result, rows } = await run(bob, '{ notes { id } }');
    expect(result.data).toEqual({ notes: [] });
    expect(rows).toEqual([]);
  });

  it('records a deletion with the snapshot of what was deleted', async () => {
    const { rows } = await run(alice, `mutation { deleteNote(id: "${noteId}") }`);
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'delete_note',
        outcome: 'success',
        admin_bypass: false,
        details: { before: { id: noteId, ownerId: 'alice', body: 'edited', pin: WITHHELD } },
      }),
    ]);
  });

  it('records a deletion of a missing note as denied, reason not_found', async () => {
    const { result, rows } = await run(alice, `mutation { deleteNote(id: "${noteId}") }`);
    expect(result.errors?.[0]?.message).toBe('note not found');
    expect(rows).toEqual([expect.objectContaining({ action: 'delete_note', outcome: 'denied', details: { reason: 'not_found' } })]);
  });
});

describe('a resource whose actions the server does not list', () => {
  it('is refused before anything is written: a row can only carry an action of the registry', async () => {
    const unlisted = new AuditTrail({ db: database.db, actions: new AuditActionRegistry(BUILT_IN_AUDIT_ACTIONS) });
    const audit = unlisted.forRequest({ viewer: alice, requestId: 'note-unlisted', ip: null, userAgent: null, operationName: null });
    const result = await graphql({ schema, source: 'mutation { createNote(body: "unlisted") { id } }', contextValue: { viewer: alice, db: database.db, audit } satisfies Context });
    // In process, unformatted: over HTTP the client would see only INTERNAL_SERVER_ERROR.
    expect(result.errors?.[0]?.message).toBe("audit action create_note is not in the server's registry (src/graphql/audit-actions.ts)");
    expect(await database.sql`select id from notes where body = 'unlisted'`).toHaveLength(0);
    expect(await database.sql`select id from audit_logs where request_id = 'note-unlisted'`).toHaveLength(0);
  });
});
