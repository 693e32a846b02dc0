import 'reflect-metadata';
import { execute, parse, type GraphQLSchema } from 'graphql';
import { Query, Resolver, buildSchema } from 'type-graphql';
import { AuditedReads } from '../../src/audit';
import { Item, ItemConnection } from '../../src/items/item.type';
import { itemRow } from '../support/items';
import { inProcessContext, RecordingSink } from '../support/recording-sink';

/*
 * In process, no database: which fields the admin-read middleware records for an operation,
 * through aliases, fragments, inline fragments, @skip and @include. Items come from memory; the
 * types, connection and middleware are the API's own.
 */

@Resolver(() => Item)
class InMemoryItems {
  @Query(() => Item)
  @AuditedReads()
  item(): Item {
    return Item.fromRow(itemRow(1, 'alice'));
  }

  @Query(() => ItemConnection)
  items(): ItemConnection {
    const rows = [itemRow(2, 'alice'), itemRow(3, 'root'), itemRow(4, 'bob')];
    return ItemConnection.fromPage({ rows, hasNextPage: false, countTotal: async () => ({ count: rows.length, exact: true }) }, Item.fromRow);
  }
}

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildSchema({ resolvers: [InMemoryItems], validate: false });
});

async function recordedReads(query: string, variables: Record<string, unknown> = {}) {
  const sink = new RecordingSink();
  const context = inProcessContext(sink);
  const result = await execute({ schema, document: parse(query), contextValue: context, variableValues: variables });
  expect(result.errors).toBeUndefined();
  await context.audit.flush();
  return sink.events.map((event) => ({
    ids: event.resourceId ? [event.resourceId] : event.resourceIds,
    owners: event.ownerIds,
    fields: (event.details as { fields: string[] }).fields,
  }));
}

it('records the fields selected through aliases, fragments and inline fragments, once per record', async () => {
  const reads = await recordedReads(`
    query { item { a: title ...F ... on Item { ownerId } b: title __typename } }
    fragment F on Item { description }`);
  expect(reads).toEqual([{ ids: ['1'], owners: ['alice'], fields: ['title', 'description', 'ownerId'] }]);
});

it('honours @skip and @include with variables', async () => {
  const reads = await recordedReads('query ($no: Boolean!, $yes: Boolean!) { item { title @skip(if: $yes) description @include(if: $no) id @include(if: $yes) } }', {
    yes: true,
    no: false,
  });
  expect(reads).toEqual([{ ids: ['1'], owners: ['alice'], fields: ['id'] }]);
});

it("records other users' records of a list in one row, not the admin's own, merging nodes and edges", async () => {
  const reads = await recordedReads('{ items { nodes { title } edges { node { description } } } }');
  expect(reads).toEqual([{ ids: ['2', '4'], owners: ['alice', 'bob'], fields: ['title', 'description'] }]);
});

it('records nothing for a user', async () => {
  const sink = new RecordingSink();
  const context = inProcessContext(sink, { id: 'alice', role: 'USER' as never });
  await execute({ schema, document: parse('{ item { title } }'), contextValue: context });
  await context.audit.flush();
  expect(sink.events).toEqual([]);
});
