import 'reflect-metadata';
import { pgTable, text, bigint } from 'drizzle-orm/pg-core';
import { createUnionType, Field, ID, InterfaceType, Mutation, ObjectType, Query, Resolver, buildSchema, type ClassType } from 'type-graphql';
import { AuditedObject, AuditedReads, auditedResource } from '../../src/audit';
import { assertAuditCoverage } from '../../src/audit/wiring';
import { ItemResolver } from '../../src/items/item.resolver';
import { Item } from '../../src/items/item.type';

/*
 * The schema refuses to build when an admin could read owned data unrecorded: a type with an
 * owner field that is not a declared resource, or a way to reach audited records that does not
 * record reads. Each refusal is checked directly, through an interface, a union and a nested field.
 */

const build = (...resolvers: ClassType[]) => buildSchema({ resolvers: [ItemResolver, ...resolvers] as never, validate: false });

// --- Owned types that forgot their declaration --------------------------------------------------

@ObjectType()
class Invoice {
  @Field(() => ID) id!: string;
  @Field(() => ID) ownerId!: string;
}

@InterfaceType({ resolveType: () => Contract })
abstract class Owned {
  @Field(() => ID) owner!: string;
}

@ObjectType({ implements: Owned })
class Contract extends Owned {
  @Field(() => ID) id!: string;
}

@ObjectType()
class Receipt {
  @Field(() => ID) id!: string;
  @Field(() => ID) ownerId!: string;
}
const Paper = createUnionType({ name: 'Paper', types: () => [Item, Receipt] as const });

@ObjectType()
class Folder {
  @Field(() => ID) id!: string;
  @Field(() => [Invoice]) invoices!: Invoice[];
}

@Resolver()
class InvoiceResolver {
  @Query(() => [Invoice]) invoices(): Invoice[] { return []; }
}
@Resolver()
class ContractResolver {
  @Query(() => [Owned]) contracts(): Owned[] { return []; }
}
@Resolver()
class PaperResolver {
  @Query(() => [Paper]) papers(): unknown[] { return []; }
}
@Resolver()
class FolderResolver {
  @Query(() => Folder) folder(): Folder { return { id: '1', invoices: [] }; }
}

// --- Ways to reach items that forgot to record reads --------------------------------------------

@InterfaceType()
abstract class Titled {
  @Field(() => String) title!: string;
}
@ObjectType({ implements: Titled })
class Memo extends Titled {}

@ObjectType()
class Shelf {
  @Field(() => [Item]) items!: Item[];
}

@Resolver(() => Item)
class RecentItemsResolver {
  @Query(() => [Item]) recentItems(): Item[] { return []; }
}
@Resolver()
class ShelfResolver {
  @Query(() => Shelf) @AuditedReads() shelf(): Shelf { return { items: [] }; }
}
const ItemOrMemo = createUnionType({ name: 'ItemOrMemo', types: () => [Item, Memo] as const });
@Resolver()
class SearchResolver {
  @Query(() => [ItemOrMemo]) search(): unknown[] { return []; }
}

describe('assertAuditCoverage', () => {
  it('accepts the API as built', async () => {
    const schema = await build();
    expect(() => assertAuditCoverage(schema)).not.toThrow();
  });

  describe('refuses a type with an owner field that is not a declared resource', () => {
    it.each([
      ['directly', InvoiceResolver, 'Invoice'],
      ['through an interface', ContractResolver, 'Contract'],
      ['through a union', PaperResolver, 'Receipt'],
      ['as a nested field', FolderResolver, 'Invoice'],
    ])('%s', async (_how, resolver, typeName) => {
      const schema = await build(resolver);
      expect(() => assertAuditCoverage(schema)).toThrow(
        `types with an owner field must be declared audited resources (@AuditedObject): ${typeName}`,
      );
    });

    it('and accepts it once declared', async () => {
      const invoices = pgTable('invoices', { id: bigint('id', { mode: 'bigint' }).primaryKey(), ownerId: text('owner_id').notNull() });
      @ObjectType()
      @AuditedObject(auditedResource({ type: 'invoice', table: invoices, owner: 'ownerId' }))
      class DeclaredInvoice {
        @Field(() => ID) id!: string;
        @Field(() => ID) ownerId!: string;
      }
      @Resolver()
      class DeclaredInvoiceResolver {
        @Query(() => [DeclaredInvoice]) @AuditedReads() declaredInvoices(): DeclaredInvoice[] { return []; }
      }
      const schema = await buildSchema({ resolvers: [DeclaredInvoiceResolver], validate: false });
      expect(() => assertAuditCoverage(schema)).not.toThrow();
    });
  });

  describe('refuses a field returning audited records that does not record reads', () => {
    it.each([
      ['without @AuditedReads()', RecentItemsResolver, 'Query.recentItems'],
      ['as a nested field', ShelfResolver, 'Shelf.items'],
      ['through a union', SearchResolver, 'Query.search'],
    ])('%s', async (_how, resolver, field) => {
      const schema = await build(resolver);
      expect(() => assertAuditCoverage(schema)).toThrow(
        `fields returning audited records must be marked @AuditedReads() (and mutations must return the object type): ${field}`,
      );
    });

    it('through an interface: a query only when marked, a mutation never', async () => {
      @InterfaceType({ resolveType: () => 'ListedItem' })
      abstract class Listed {
        @Field(() => ID) id!: string;
      }
      @ObjectType({ implements: Listed })
      class ListedThing extends Listed {}
      @ObjectType({ implements: Listed })
      @AuditedObject(listedItemResource())
      class ListedItem extends Listed {
        @Field(() => ID) ownerId!: string;
      }
      @Resolver()
      class ListedResolver {
        @Query(() => [Listed]) @AuditedReads() listed(): Listed[] { return []; }
        @Query(() => [Listed]) unmarkedListed(): Listed[] { return []; }
        @Query(() => ListedThing) thing(): ListedThing { return { id: '1' }; }
        @Query(() => ListedItem) @AuditedReads() listedItem(): ListedItem | null { return null; }
        @Mutation(() => Listed) @AuditedReads() touchListed(): Listed | null { return null; }
      }
      const schema = await buildSchema({ resolvers: [ListedResolver], validate: false });
      expect(() => assertAuditCoverage(schema)).toThrow(
        'fields returning audited records must be marked @AuditedReads() (and mutations must return the object type): Query.unmarkedListed, Mutation.touchListed',
      );
    });
  });
});

/** A declared resource implementing an interface that other, unowned types implement too. */
function listedItemResource() {
  const things = pgTable('listed_items', { id: bigint('id', { mode: 'bigint' }).primaryKey(), ownerId: text('owner_id').notNull() });
  return auditedResource({ type: 'listed_item', table: things, owner: 'ownerId' });
}
