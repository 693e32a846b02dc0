import { execute, parse, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Context } from '#src/api/context';
import type { Database } from '#src/db/database';
import { TrailReads } from '#src/db/trail-reads';
import { AuditTrail, discardingAuditSink } from '#src/audit/wiring';
import { postgresAuditSink, type AuditSink } from '#src/audit/operations';
import { Role, type Viewer } from '#src/auth/viewer';
import { buildExecutableSchema } from '#src/graphql/schema';
import type { ItemRow } from '#src/items/item.table';
import { Item, ItemConnection } from '#src/items/item.type';
import { median } from './stats';
import { AUDIT_ACTIONS } from '#src/graphql/audit-actions';

const ITEM_COUNT = 1000;
const ITEM_FIELDS = ['id', 'title', 'description', 'ownerId', 'createdAt', 'updatedAt'];
/** Resolved fields per execution that go through the middleware: every field of every item. */
const FIELDS_PER_EXECUTION = ITEM_COUNT * ITEM_FIELDS.length;
const DOCUMENT = parse(`{ items { nodes { ${ITEM_FIELDS.join(' ')} } } }`);
const ADMIN: Viewer = { id: 'bench-admin', role: Role.ADMIN };

/** How long to execute one variant before switching to the next, and how often to switch. */
export interface MicroPlan {
  readonly warmupMs: number;
  readonly sliceMs: number;
  readonly rounds: number;
}

/** One variant's median cost. */
export interface MicroResult {
  readonly label: string;
  readonly nsPerExecution: number;
  readonly nsPerField: number;
  /** Extra ns per field over the variant without the audit middleware. */
  readonly overheadNsPerField: number;
}

interface Variant {
  readonly label: string;
  readonly rootValue: unknown;
  /** The audit-OFF server's sink notes no reads; the production sink does (nothing is written here). */
  readonly sink: AuditSink;
}

/**
 * What noting admin reads costs, without HTTP or a database: executes `items { nodes { …6 fields } }`
 * over {@link ITEM_COUNT} in-memory items through the real executable schema, the root field
 * being served from the root value. The baseline is a request whose audit trail notes no reads
 * (as on the audit-OFF server); items owned by the admin exercise the path with nothing to note;
 * items of other users add noting them (buffered, never written). Costs are spread over every
 * resolved item field, so they compare with the cost of resolving one. Variants alternate in
 * short slices and medians are compared, as in the HTTP benchmark.
 */
/** The micro-benchmark notes reads but never writes them: no database is reached. */
const NO_DATABASE = undefined as unknown as Context['db'];

export async function measureMiddlewareOverhead(plan: MicroPlan): Promise<MicroResult[]> {
  schema = serveItemsFromRootValue(await buildExecutableSchema());
  const ownItems = rootValueWith(() => ADMIN.id);
  const othersItems = rootValueWith((index) => `user${(index % 10) + 1}`);
  const variants: Variant[] = [
    { label: 'audit off (reads not noted)', rootValue: othersItems, sink: discardingAuditSink },
    { label: 'audit on, own items (nothing to note)', rootValue: ownItems, sink: postgresAuditSink(NO_DATABASE) },
    { label: "audit on, others' items (reads noted)", rootValue: othersItems, sink: postgresAuditSink(NO_DATABASE) },
  ];

  for (const variant of variants) {
    await checkResult(variant);
    await timeSlice(variant, plan.warmupMs);
  }
  const samples = new Map<Variant, number[]>(variants.map((variant) => [variant, []]));
  for (let round = 0; round < plan.rounds; round++) {
    // Rotate which variant goes first, so none always runs on a freshly collected heap.
    for (let i = 0; i < variants.length; i++) {
      const variant = variants[(round + i) % variants.length]!;
      samples.get(variant)!.push(await timeSlice(variant, plan.sliceMs));
    }
  }
  const baseline = median(samples.get(variants[0]!)!);
  return variants.map((variant) => {
    const nsPerExecution = median(samples.get(variant)!);
    return {
      label: variant.label,
      nsPerExecution,
      nsPerField: nsPerExecution / FIELDS_PER_EXECUTION,
      overheadNsPerField: (nsPerExecution - baseline) / FIELDS_PER_EXECUTION,
    };
  });
}

/** Replaces `Query.items` (shield, resolver and database) on this schema instance only. */
function serveItemsFromRootValue(schema: GraphQLSchema): GraphQLSchema {
  schema.getQueryType()!.getFields().items!.resolve = (root: { items: ItemConnection }) => root.items;
  return schema;
}

function rootValueWith(ownerOf: (index: number) => string): { items: ItemConnection } {
  const now = new Date();
  const rows: ItemRow[] = Array.from({ length: ITEM_COUNT }, (_, index) => ({
    id: BigInt(index + 1),
    ownerId: ownerOf(index),
    title: `Item ${index}`,
    description: 'Seeded for the benchmark.',
    createdAt: now,
    updatedAt: now,
  }));
  const page = { rows, hasNextPage: false, countTotal: async () => ({ count: rows.length, exact: true }) };
  return { items: ItemConnection.fromPage(page, Item.fromRow) };
}

let schema: GraphQLSchema;

function contextFor(variant: Variant): Context {
  const request = { viewer: ADMIN, requestId: 'micro', ip: null, userAgent: null, accessReason: null, operationName: null };
  // No resolver below the replaced root field touches the database.
  const db = undefined as unknown as Context['db'];
  const trailReads = TrailReads.primaryOnly({ db } as Database);
  return { viewer: ADMIN, db, trailReads, audit: new AuditTrail({ db, sink: variant.sink, actions: AUDIT_ACTIONS }).forRequest(request), accessLog: { showsAdmin: 'role' } };
}

function run(variant: Variant): ExecutionResult | Promise<ExecutionResult> {
  return execute({ schema, document: DOCUMENT, rootValue: variant.rootValue, contextValue: contextFor(variant) });
}

async function checkResult(variant: Variant): Promise<void> {
  const result = await run(variant);
  const nodes = (result.data as { items?: { nodes?: unknown[] } } | null | undefined)?.items?.nodes;
  if (result.errors || nodes?.length !== ITEM_COUNT) {
    throw new Error(`micro-benchmark "${variant.label}" did not resolve ${ITEM_COUNT} items: ${JSON.stringify(result.errors)}`);
  }
}

/** Executes `variant` back to back for about `ms`; returns the mean ns per execution. */
async function timeSlice(variant: Variant, ms: number): Promise<number> {
  const deadline = process.hrtime.bigint() + BigInt(ms) * 1_000_000n;
  const start = process.hrtime.bigint();
  let executions = 0;
  let now = start;
  while (now < deadline) {
    await run(variant);
    executions++;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / executions;
}
