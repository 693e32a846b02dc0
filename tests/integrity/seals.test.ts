import { independentChainProblems, independentRollupProblems, independentRowHashes } from '../support/independent-verifier';
import { CREATE_ITEM, UPDATE_ITEM } from '../support/items';
import { untilSealed } from '../support/sealing';
import { admin, alice, bob, startTestServer, TEST_AUDIT_PUBLIC_KEY, type TestServer } from '../support/test-server';

/**
 * Sealing as the API serves it: every row gets a hash and a seal within moments, an auditor's own
 * code (tests/support/independent-verifier.ts, written from the README) agrees with both, the API
 * shows them, and a consumer reading in seal order sees every row exactly once.
 */

jest.setTimeout(180_000);

// The embedded PGlite cannot serve the test's connection while the sealer works in the background
// (tests/support/test-server.ts); sealing there is tested end to end in tests/process/embedded.test.ts.
const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;

let server: TestServer;
beforeAll(async () => {
  if (process.env.DATABASE_URL) server = await startTestServer({ AUDIT_SEAL_INTERVAL_MS: '100' });
});
afterAll(() => server?.stop());

/** The row id behind an entry's global id (`AuditLog:<id>`, base64url). */
const rowIdOf = (globalId: string) => Buffer.from(globalId, 'base64url').toString('utf8').replace(/^AuditLog:/, '');

async function createItems(count: number, owner = alice): Promise<string[]> {
  const created = await Promise.all(
    Array.from({ length: count }, (_, i) => server.graphql(CREATE_ITEM, { as: owner, variables: { input: { title: `sealed ${i}` } } })),
  );
  return created.map((response) => response.body.data.createItem.id);
}

describeOnPostgres('seals', () => {
  beforeAll(async () => {
    const ids = await createItems(5);
    await server.graphql(UPDATE_ITEM, { as: alice, variables: { id: ids[0], input: { description: 'ünïcode \u2028 "quoted"' } } });
    await server.graphql('{ items(first: 10) { nodes { id title } } }', { as: admin });
    await server.graphql('{ auditLogs { nodes { id } } }', { as: bob });
    await untilSealed(server.sql);
  });

  it('hold every row, with the hash an independent implementation computes', async () => {
    const stored = await server.sql<{ id: string; hash: string }[]>`select id::text, encode(row_hash, 'hex') as hash from audit_row_hashes`;
    const independent = await independentRowHashes(server.sql);
    expect(independent.size).toBeGreaterThanOrEqual(8);
    expect(new Map(stored.map((row) => [row.id, row.hash]))).toEqual(independent);
  });

  it('form a chain whose hashes and signatures an independent implementation accepts', async () => {
    const [{ seals }] = await server.sql<{ seals: number }[]>`select count(*)::int as seals from audit_seals`;
    expect(seals).toBeGreaterThan(0);
    expect(await independentChainProblems(server.sql, TEST_AUDIT_PUBLIC_KEY)).toEqual([]);
  });

  it('keep the rollups auditStats reads at the counts an independent implementation recounts from the sealed rows', async () => {
    const [{ buckets }] = await server.sql<{ buckets: number }[]>`select count(*)::int as buckets from audit_stats_user_daily`;
    expect(buckets).toBeGreaterThan(0);
    expect(await independentRollupProblems(server.sql)).toEqual([]);
  });

  it('show in AuditLog.rowHash and AuditLog.seal', async () => {
    const response = await server.graphql('{ auditLogs(first: 200) { nodes { id rowHash seal } } }', { as: admin });
    const nodes: { id: string; rowHash: string; seal: number | null }[] = response.body.data.auditLogs.nodes;
    const independent = await independentRowHashes(server.sql);
    const seals = new Map((await server.sql<{ id: string; seal: number }[]>`select id::text, seal::int from audit_row_hashes`).map((row) => [row.id, row.seal]));
    expect(nodes.length).toBeGreaterThanOrEqual(8);
    for (const node of nodes) {
      const id = rowIdOf(node.id);
      expect(node).toEqual({ id: node.id, rowHash: independent.get(id), seal: seals.get(id) ?? null });
    }
  });

  it('are summed up by auditIntegrity for admins, recorded as a view of the trail', async () => {
    const query = '{ auditIntegrity { headSeal { sequence hash previousHash rowCount publicKey signature } publicKey unsealedRows oldestUnsealedAgeSeconds } }';
    const [before] = await server.sql`select max(sequence)::int as sequence from audit_seals`;
    const response = await server.graphql(query, { as: admin });
    // The sealer may seal again in between: the answer is the head as it was at some moment since.
    const answered = response.body.data.auditIntegrity.headSeal.sequence;
    expect(answered).toBeGreaterThanOrEqual(before!.sequence);
    const [head] = await server.sql`select sequence::int, hash, previous_hash, row_count, signature from audit_seals where sequence = ${answered}`;
    expect(response.body.data.auditIntegrity).toEqual({
      headSeal: {
        sequence: head!.sequence,
        hash: head!.hash,
        previousHash: head!.previous_hash,
        rowCount: head!.row_count,
        publicKey: TEST_AUDIT_PUBLIC_KEY,
        signature: head!.signature,
      },
      publicKey: TEST_AUDIT_PUBLIC_KEY,
      unsealedRows: expect.any(Number),
      oldestUnsealedAgeSeconds: response.body.data.auditIntegrity.unsealedRows === 0 ? null : expect.any(Number),
    });
    const refused = await server.graphql('{ auditIntegrity { unsealedRows } }', { as: bob });
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const rows = await server.sql`select user_id, outcome, details->'integrity' as integrity from audit_logs
      where action = 'view_audit_logs' and details ? 'integrity' order by id`;
    expect(rows).toEqual([
      { user_id: 'root', outcome: 'success', integrity: true },
      { user_id: 'bob', outcome: 'denied', integrity: true },
    ]);
  });
});

describeOnPostgres('auditLogs(order: SEALED_ASC)', () => {
  const PAGE = `query($after: String) { auditLogs(order: SEALED_ASC, first: 50, after: $after) {
    nodes { id action seal } pageInfo { endCursor } } }`;

  it('gives a consumer every row exactly once while 200 concurrent updates commit', async () => {
    const itemIds = await createItems(20, bob);
    const seen: string[] = [];
    let cursor: string | null = null;
    const readPage = async () => {
      const response = await server.graphql(PAGE, { as: admin, variables: { after: cursor } });
      const page = response.body.data.auditLogs;
      seen.push(...page.nodes.map((node: { id: string }) => rowIdOf(node.id)));
      cursor = page.pageInfo.endCursor ?? cursor;
      return page.nodes.length;
    };
    let updating = true;
    const updates = Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        server.graphql(UPDATE_ITEM, { as: bob, variables: { id: itemIds[i % itemIds.length], input: { title: `update ${i}` } } }),
      ),
    ).finally(() => (updating = false));
    while (updating) await readPage();
    expect((await updates).every((response) => response.body.data?.updateItem)).toBe(true);

    // Everything written up to now must reach the consumer; its own reads keep adding rows after.
    const [{ last }] = await server.sql<{ last: string }[]>`select max(id)::text as last from audit_logs`;
    const written = async () => (await server.sql<{ id: string }[]>`select id::text from audit_logs where id <= ${last} order by id`).map((row) => row.id);
    const expected = await written();
    const seenSet = () => new Set(seen);
    for (let attempt = 0; attempt < 900 && !expected.every((id) => seenSet().has(id)); attempt++) {
      if ((await readPage()) === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(seen.length).toBe(new Set(seen).size);
    expect(expected.filter((id) => !seenSet().has(id))).toEqual([]);
    const updated = await server.sql<{ id: string }[]>`select id::text from audit_logs where action = 'update_item' and id <= ${last}`;
    expect(updated.length).toBeGreaterThanOrEqual(200);
  });

  it('refuses a cursor of a row that is not sealed', async () => {
    // A row whose transaction is still open cannot be sealed.
    const response = await server.sql
      .begin(async (tx) => {
        const [row] = await tx<{ id: string }[]>`insert into audit_logs (action, outcome) values ('create_item', 'success') returning id::text`;
        const cursor = Buffer.from(`audit:${row!.id}`).toString('base64url');
        const answer = await server.graphql(PAGE, { as: admin, variables: { after: cursor } });
        throw Object.assign(new Error('roll back'), { answer });
      })
      .catch((error: { answer: Awaited<ReturnType<TestServer['graphql']>> }) => error.answer);
    expect(response.body.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    const unknown = await server.graphql(PAGE, { as: admin, variables: { after: Buffer.from('audit:999999999').toString('base64url') } });
    expect(unknown.body.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });
});

describeOnPostgres('a seal with a horizon the database has not reached', () => {
  let damaged: TestServer;
  beforeAll(async () => {
    damaged = await startTestServer({ AUDIT_SEAL_INTERVAL_MS: '100' });
  });
  afterAll(() => damaged?.stop());

  it('does not hide the rows no seal covers: unsealedRows and the lag grow while sealing fails', async () => {
    // As the owner (the serving role's functions refuse such a seal): a head far ahead of the database.
    await damaged.sql`
      insert into audit_seals values (1, '0', '9000000000000000000', 0, 0, 0, '', ${'0'.repeat(64)}, now(), '', '', '')`;
    for (let n = 0; n < 3; n++) await damaged.graphql(CREATE_ITEM, { as: alice, variables: { input: { title: `after ${n}` } } });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const response = await damaged.graphql('{ auditIntegrity { headSeal { sequence } unsealedRows oldestUnsealedAgeSeconds } }', { as: admin });
    expect(response.body.data.auditIntegrity).toEqual({
      headSeal: { sequence: 1 },
      unsealedRows: expect.any(Number),
      oldestUnsealedAgeSeconds: expect.any(Number),
    });
    expect(response.body.data.auditIntegrity.unsealedRows).toBeGreaterThanOrEqual(3);
    expect(response.body.data.auditIntegrity.oldestUnsealedAgeSeconds).toBeGreaterThan(0.5);
  });
});
