import type { LoadProfile, LoadTarget } from './load';
import { BENCH_ACCESS_REASON, type Fixture } from './seed';
import type { Compared } from './sides';

/** One measured operation and the throughput ratio (ON / OFF) it should reach. */
export interface Scenario extends LoadProfile {
  readonly id: string;
  readonly title: string;
  /** What ON and OFF differ in: the audit trail (P1, P2), or with the trail ON on both sides only the sealer (P4) or the database's audit backstop (P5). */
  readonly compares: Compared;
  /** Concurrent connections, when not the plan's. */
  readonly connections?: number;
  /** Minimum acceptable ON/OFF throughput ratio. */
  readonly target: number;
  /** Records the audit rows of one request must name when the trail is ON (none when it is OFF). */
  readonly recordsAuditedPerRequest: number;
}

const ITEM_FIELDS = 'id title description ownerId createdAt updatedAt';
const PAGE_SIZE = 100;

/** Every update gets a title no item has had before, so each one really changes a row. */
let updateSequence = 0;

/** Writers of P4. */
export const P4_WRITERS = 32;

/** P1 (admin reads other users' items), P2 (an owner updates their items), P4 (P2 by 32 writers, sealer ON / OFF) and P5 (P2, backstop ON / OFF). */
export function scenarios(fixture: Fixture): Scenario[] {
  const listBody = JSON.stringify({ query: `query BenchAdminList { items(first: ${PAGE_SIZE}) { nodes { ${ITEM_FIELDS} } } }` });
  const updateQuery =
    'mutation BenchUpdate($id: ID!, $title: String!) { updateItem(id: $id, input: { title: $title }) { id title updatedAt } }';
  const p2: Scenario = {
    id: 'P2',
    title: 'owner updates an item title (updateItem)',
    compares: 'audit',
    target: 0.85,
    recordsAuditedPerRequest: 1,
    nextRequest() {
      const sequence = updateSequence++;
      const id = fixture.ownItemIds[sequence % fixture.ownItemIds.length];
      return {
        headers: headersFor(fixture.ownerToken),
        body: JSON.stringify({ query: updateQuery, variables: { id, title: `Benchmark title ${sequence}` } }),
      };
    },
    isSuccess: (body) => body.startsWith('{"data":{"updateItem":{') && !body.includes('"errors"'),
  };
  return [
    {
      id: 'P1',
      title: `admin lists ${PAGE_SIZE} items of other users`,
      compares: 'audit',
      target: 0.9,
      recordsAuditedPerRequest: PAGE_SIZE,
      nextRequest: () => ({ headers: { ...headersFor(fixture.adminToken), ...BENCH_ACCESS_REASON }, body: listBody }),
      isSuccess: (body) => body.startsWith('{"data":{"items":{"nodes":[{') && !body.includes('"errors"'),
    },
    p2,
    // The trail ON on both sides: what the sealer costs writers, at the concurrency where it could hurt.
    { ...p2, id: 'P4', title: `${P4_WRITERS} writers update items (updateItem), sealer ON / OFF`, compares: 'sealer', connections: P4_WRITERS, target: 0.95 },
    // The trail ON on both sides: what the database's backstop costs the API's own writes.
    { ...p2, id: 'P5', title: 'owner updates an item title (updateItem), audit backstop ON / OFF', compares: 'backstop', target: 0.95 },
  ];
}

function headersFor(token: string): Record<string, string> {
  return { 'content-type': 'application/json', authorization: `Bearer ${token}` };
}

/** One request of `scenario` outside the load, to check the answer and what it left in the trail. */
export async function sendOnce(scenario: Scenario, target: LoadTarget): Promise<{ requestId: string }> {
  const { headers, body } = scenario.nextRequest();
  const response = await fetch(`${target.url}/graphql`, { method: 'POST', headers, body });
  const text = await response.text();
  if (!response.ok || !scenario.isSuccess(text)) {
    throw new Error(`${scenario.id} against ${target.label}: HTTP ${response.status}: ${text.slice(0, 300)}`);
  }
  return { requestId: response.headers.get('x-request-id') ?? '' };
}
