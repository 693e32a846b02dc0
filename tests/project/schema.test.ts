import 'reflect-metadata';
import { readFile } from 'node:fs/promises';
import { Field, ID, ObjectType, Query, Resolver, buildSchema } from 'type-graphql';
import { Node } from '../../src/api/node';
import { ACTION_TABLE_FILE, SCHEMA_FILE, printApiSchema, withActionTable } from '../../src/graphql/emitted-files';
import { API_FEATURES } from '../../src/graphql/features';
import { assertNodeSources } from '../../src/graphql/node.resolver';
import { permissionsFor } from '../../src/graphql/permissions';

// Both are emitted from the code: run `npm run schema:emit` after changing types or actions.
describe('emitted files', () => {
  it('schema.graphql matches the schema the code builds', async () => {
    expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(await printApiSchema());
  });

  it("docs/audit-trail.md's table of audit actions matches the action registry", async () => {
    const document = await readFile(ACTION_TABLE_FILE, 'utf8');
    expect(document).toBe(withActionTable(document));
  });
});

describe('features, found by their <name>.feature.ts', () => {
  it('assemble the schema: every feature folder of src/ is found', () => {
    const resolvers = API_FEATURES.flatMap((feature) => feature.resolvers.map((resolver) => resolver.name));
    expect(resolvers).toEqual(['AuditLogResolver', 'AuditStatsResolver', 'AuditLogFeedResolver', 'AccessLogResolver', 'ItemResolver', 'ViewerResolver']);
  });

  it('fail the build for a type implementing Node whose ids no feature answers in node()', async () => {
    @ObjectType({ implements: Node })
    class Orphan implements Node {
      @Field(() => ID, { name: 'id' }) readonly globalId!: string;
    }
    @Resolver()
    class OrphanResolver {
      @Query(() => Orphan, { nullable: true }) orphan(): Orphan | null {
        return null;
      }
    }
    const schema = await buildSchema({ resolvers: [OrphanResolver], orphanedTypes: [Node], validate: false });
    expect(() => assertNodeSources(schema, [])).toThrow("Orphan implements Node, but no feature answers node() for its ids: list its node type in its <name>.feature.ts");
  });

  it('give each root field one owner: two features granting one field an access is refused', () => {
    const items = API_FEATURES.find((feature) => feature.access.Query && 'items' in feature.access.Query)!;
    const rival = { resolvers: [], access: { Query: { items: 'signedIn' as const } } };
    expect(() => permissionsFor([items, rival])).toThrow('Query.items is given an access twice: one feature owns each root field');
    expect(() => permissionsFor([items])).not.toThrow();
  });
});
