import fc from 'fast-check';
import { setTimeout as sleep } from 'node:timers/promises';
import { dataOf } from '../support/errors';
import { CREATE_ITEM, DELETE_ITEM, UPDATE_ITEM, itemId, rawIdOf } from '../support/items';
import { admin, alice, startTestServer, type TestServer } from '../support/test-server';

/*
 * The rebuild is right, property-tested: random sequences of changes through the API, straight in
 * SQL (recorded by the database's backstop trigger, when the database has it: updates, bulk
 * updates, owner changes, deletes, TRUNCATE, re-inserts with the same id) and restores, after
 * each of which the item is observed as it is stored; then `item(id:, asOf:)` at the instant of
 * every observation must answer exactly what was observed there — the fields the trail records
 * (id, owner, title, description, createdAt) and whether the item existed.
 */

let server: TestServer;
/** Whether changes made in SQL are recorded: the backstop trigger on `items` is installed. */
let backstop: boolean;
/** Another item, which bulk SQL statements change along with the one under test (until a TRUNCATE). */
let companion: string;

beforeAll(async () => {
  server = await startTestServer();
  const [found] = await server.sql`select exists (select from pg_trigger where tgrelid = 'items'::regclass and not tgisinternal) as installed`;
  backstop = found!.installed;
  const [row] = await server.sql`insert into items (owner_id, title) values ('bob', 'companion') returning id`;
  companion = String(row!.id);
});
afterAll(() => server?.stop());

/** The item as stored, in the API's terms; null once it does not exist. */
interface Observed {
  readonly id: string;
  readonly ownerId: string;
  readonly title: string;
  readonly description: string | null;
  readonly createdAt: string;
}

type Step =
  | { readonly kind: 'apiUpdate'; readonly title?: string; readonly description?: string | null }
  | { readonly kind: 'apiDelete' }
  | { readonly kind: 'restore'; readonly back: number }
  | { readonly kind: 'sqlUpdate'; readonly title: string }
  | { readonly kind: 'sqlBulkUpdate'; readonly description: string | null }
  | { readonly kind: 'sqlOwner'; readonly ownerId: string }
  | { readonly kind: 'sqlDelete' }
  | { readonly kind: 'sqlTruncate' }
  | { readonly kind: 'sqlInsert'; readonly title: string };

const title = fc.string({ minLength: 1, maxLength: 12 }).filter((text) => text.trim() !== '' && !text.includes('\u0000'));
const description = fc.option(fc.string({ maxLength: 20 }).filter((text) => !text.includes('\u0000')), { nil: null });

function steps(withSql: boolean): fc.Arbitrary<Step[]> {
  const api: fc.Arbitrary<Step>[] = [
    fc.record({ kind: fc.constant('apiUpdate' as const), title, description }, { requiredKeys: ['kind'] }).filter((step) => step.title !== undefined || step.description !== undefined),
    fc.constant({ kind: 'apiDelete' as const }),
    fc.record({ kind: fc.constant('restore' as const), back: fc.nat() }),
  ];
  const sql: fc.Arbitrary<Step>[] = [
    fc.record({ kind: fc.constant('sqlUpdate' as const), title }),
    fc.record({ kind: fc.constant('sqlBulkUpdate' as const), description }),
    fc.record({ kind: fc.constant('sqlOwner' as const), ownerId: fc.constantFrom('alice', 'bob') }),
    fc.constant({ kind: 'sqlDelete' as const }),
    fc.constant({ kind: 'sqlTruncate' as const }),
    fc.record({ kind: fc.constant('sqlInsert' as const), title }),
  ];
  return fc.array(fc.oneof(...api, ...(withSql ? sql : [])), { minLength: 1, maxLength: 10 });
}

async function observe(id: string): Promise<Observed | null> {
  const [row] = await server.sql`select id, owner_id, title, description, created_at from items where id = ${id}`;
  return row ? { id: itemId(row.id), ownerId: row.owner_id, title: row.title, description: row.description, createdAt: row.created_at.toISOString() } : null;
}

/**
 * An instant strictly after everything committed so far and strictly before anything that follows
 * starts, on the database's clock, in the API's millisecond precision.
 */
async function instantBetweenSteps(): Promise<Date> {
  await sleep(2);
  const [row] = await server.sql`select clock_timestamp() as now`;
  await sleep(2);
  return new Date(Math.floor(row!.now.getTime()));
}

async function apply(step: Step, id: string, past: readonly { at: Date; state: Observed | null }[]): Promise<void> {
  const globalId = itemId(id);
  switch (step.kind) {
    case 'apiUpdate': {
      const { kind: _kind, ...input } = step;
      await server.graphql(UPDATE_ITEM, { as: alice, variables: { id: globalId, input } });
      return;
    }
    case 'apiDelete':
      await server.graphql(DELETE_ITEM, { as: alice, variables: { id: globalId } });
      return;
    case 'restore': {
      const target = past[step.back % past.length]!;
      const response = await server.graphql(`mutation($id: ID!, $asOf: DateTimeISO!) { restoreItem(id: $id, asOf: $asOf) { title description } }`, {
        as: admin,
        variables: { id: globalId, asOf: target.at.toISOString() },
      });
      if (target.state === null) {
        expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'asOf' });
      } else {
        expect(dataOf(response).restoreItem).toEqual({ title: target.state.title, description: target.state.description });
      }
      return;
    }
    case 'sqlUpdate':
      await server.sql`update items set title = ${step.title} where id = ${id}`;
      return;
    case 'sqlBulkUpdate':
      await server.sql`update items set description = ${step.description} where id in (${id}, ${companion})`;
      return;
    case 'sqlOwner':
      await server.sql`update items set owner_id = ${step.ownerId} where id = ${id}`;
      return;
    case 'sqlDelete':
      await server.sql`delete from items where id = ${id}`;
      return;
    case 'sqlTruncate':
      // Every item, the companion too: recorded as a deletion of each (details.statement TRUNCATE).
      await server.sql`truncate items`;
      return;
    case 'sqlInsert':
      await server.sql`insert into items (id, owner_id, title) overriding system value values (${id}, 'alice', ${step.title}) on conflict (id) do nothing`;
      return;
  }
}

const AS_OF = 'query($id: ID!, $asOf: DateTimeISO!) { item(id: $id, asOf: $asOf) { id ownerId title description createdAt } }';

it('answers, at the instant of every observation, the item as it was observed (SQL changes too, where the backstop records them)', async () => {
  await fc.assert(
    fc.asyncProperty(steps(backstop), async (sequence) => {
      const before = await instantBetweenSteps();
      const created = dataOf(await server.graphql(CREATE_ITEM, { as: alice, variables: { input: { title: 'start' } } }));
      const id = created.createItem.id as string;
      const key = rawIdOf(id);
      const past: { at: Date; state: Observed | null }[] = [{ at: before, state: null }];
      past.push({ at: await instantBetweenSteps(), state: await observe(key) });
      for (const step of sequence) {
        await apply(step, key, past);
        past.push({ at: await instantBetweenSteps(), state: await observe(key) });
      }
      for (const { at, state } of past) {
        const answered = dataOf(await server.graphql(AS_OF, { as: admin, variables: { id, asOf: at.toISOString() } }));
        expect({ at, item: answered.item }).toEqual({ at, item: state });
      }
    }),
    { numRuns: 25 },
  );
});
