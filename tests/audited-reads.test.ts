import 'reflect-metadata';
import { Query, Resolver, buildSchema } from 'type-graphql';
import { assertReadsAudited } from '../src/audit/audited-reads';
import { ItemResolver } from '../src/items/item.resolver';
import { Item } from '../src/items/item.type';

/** A new way to reach items that forgets to declare it, as a future feature might. */
@Resolver(() => Item)
class ForgetfulResolver {
  @Query(() => [Item])
  recentItems(): Item[] {
    return [];
  }
}

describe('assertReadsAudited', () => {
  it('accepts the API as built: every field returning items records admin reads', async () => {
    const schema = await buildSchema({ resolvers: [ItemResolver], validate: false });
    expect(() => assertReadsAudited(schema)).not.toThrow();
  });

  it('refuses a schema with a field that returns audited records without @AuditedReads()', async () => {
    const schema = await buildSchema({ resolvers: [ItemResolver, ForgetfulResolver], validate: false });
    expect(() => assertReadsAudited(schema)).toThrow(
      'fields returning audited records must be marked @AuditedReads(): Query.recentItems',
    );
  });
});
