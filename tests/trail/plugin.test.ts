import 'reflect-metadata';
import { ApolloServer } from '@apollo/server';
import pino from 'pino';
import { Query, Resolver, buildSchema } from 'type-graphql';
import { AuditedReads, type AuditContext } from '../../src/audit';
import { ApolloServerPluginAuditTrail } from '../../src/audit/wiring';
import { Item } from '../../src/items/item.type';
import { itemRow } from '../support/items';
import { inProcessContext, RecordingSink } from '../support/recording-sink';

/*
 * In process: the audit plugin writes a request's buffered reads before the response leaves, and
 * withholds the data (HTTP 503, one error, no data) when it cannot.
 */

const row = itemRow(7, 'alice', 'secret');

@Resolver(() => Item)
class OneItem {
  @Query(() => Item)
  @AuditedReads()
  item(): Item {
    return Item.fromRow(row);
  }
}

let apollo: ApolloServer<AuditContext>;
beforeAll(async () => {
  apollo = new ApolloServer({
    schema: await buildSchema({ resolvers: [OneItem], validate: false }),
    plugins: [ApolloServerPluginAuditTrail({ logger: pino({ level: 'silent' }) })],
  });
  await apollo.start();
});
afterAll(() => apollo.stop());

async function send(sink: RecordingSink) {
  const contextValue = inProcessContext(sink);
  const response = await apollo.executeOperation({ query: 'query Peek { item { title } }' }, { contextValue });
  return { response, contextValue, body: response.body.kind === 'single' ? response.body.singleResult : undefined };
}

it("writes the admin's reads, stamped with the operation name, before answering", async () => {
  const sink = new RecordingSink();
  const { response, body, contextValue } = await send(sink);
  expect(response.http.status ?? 200).toBe(200);
  expect(contextValue.audit.request.operationName).toBe('Peek');
  expect(body?.data).toEqual({ item: { title: 'secret' } });
  expect(sink.events).toEqual([expect.objectContaining({ action: expect.objectContaining({ name: 'admin_view_item', resourceType: 'item', activity: 'read' }), resourceId: '7', outcome: 'success' })]);
});

it('answers 503 with no data when the reads cannot be written', async () => {
  const sink = new RecordingSink();
  sink.failing = true;
  const { response, body } = await send(sink);
  expect(response.http.status).toBe(503);
  expect(body?.data).toBeUndefined();
  expect(body?.errors).toEqual([
    {
      message: 'The audit trail could not be written, so the result was withheld. Try again later.',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    },
  ]);
  expect(JSON.stringify(body)).not.toContain('secret');
});
