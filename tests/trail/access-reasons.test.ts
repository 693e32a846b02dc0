import { readFileSync } from 'node:fs';
import path from 'node:path';
import { independentRowHashes } from '../support/independent-verifier';
import { CREATE_ITEM, ITEM_FIELDS, ITEM_QUERY, UPDATE_ITEM } from '../support/items';
import { sample, scrape } from '../support/prometheus';
import { SocketClient } from '../support/socket-client';
import { admin, alice, bob, startTestServer, type TestServer } from '../support/test-server';

/*
 * Admins state why they bypass the owner scoping (`Access-Reason: <code> [<reference>]`, or
 * `connectionParams.accessReason` for a WebSocket): every row of the request carries the reason,
 * hashed like every other column; a malformed or unknown reason is refused and recorded; with
 * `ADMIN_ACCESS_REASON=required` a reasonless bypass returns none of the data and leaves a denied
 * row; the break-glass code is always taken, flagged, filterable and counted in /metrics.
 */

interface ReasonRow {
  action: string;
  outcome: string;
  admin_bypass: boolean;
  access_reason: string | null;
  access_reference: string | null;
  break_glass: boolean;
  owner_ids: string[];
  details: Record<string, unknown>;
}

async function rowsOf(server: TestServer, requestId: string | null): Promise<ReasonRow[]> {
  return server.sql<ReasonRow[]>`
    select action, outcome, admin_bypass, access_reason, access_reference, break_glass, owner_ids, details
    from audit_logs where request_id = ${requestId} order by id`;
}

/** POSTs `query` as `as` with an `Access-Reason` header (when given); answers the body, the status and the request id. */
async function withReason(server: TestServer, query: string, reason: string | undefined, variables: Record<string, unknown> = {}, as = admin) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${await server.token(as)}`,
      ...(reason === undefined ? {} : { 'access-reason': reason }),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as any, requestId: response.headers.get('x-request-id') };
}

async function createItem(server: TestServer, owner = alice, title = 'private notes'): Promise<string> {
  const { data } = (await server.graphql(CREATE_ITEM, { as: owner, variables: { input: { title } } })).body;
  return data.createItem.id;
}

describe('with ADMIN_ACCESS_REASON=optional (the development default)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ACCESS_REASON_CODES: 'support,incident,legal,fraud' });
  });
  afterAll(() => server.stop());

  it('records the stated reason and reference on every row of the request, and serves them', async () => {
    const id = await createItem(server);
    const read = await withReason(server, ITEM_QUERY, 'support  TICKET-4711 ', { id });
    expect(read.body.data.item.title).toBe('private notes');
    expect(await rowsOf(server, read.requestId)).toEqual([
      expect.objectContaining({ action: 'admin_view_item', admin_bypass: true, access_reason: 'support', access_reference: 'TICKET-4711', break_glass: false }),
    ]);
    const { data } = (await server.graphql(
      `{ auditLogs(filter: { accessReason: "support" }) { nodes { action requestId accessReason { code reference breakGlass } } } }`,
      { as: admin },
    )).body;
    expect(data.auditLogs.nodes).toEqual([
      { action: 'admin_view_item', requestId: read.requestId, accessReason: { code: 'support', reference: 'TICKET-4711', breakGlass: false } },
    ]);
  });

  it("checks a user's reason but keeps none: only admins bypass, and a user's break-glass would flood the alert", async () => {
    const id = await createItem(server);
    const refused = await withReason(server, ITEM_QUERY, 'curiosity', { id }, alice);
    expect(refused.status).toBe(400);
    const read = await withReason(server, ITEM_QUERY, 'break-glass', { id }, bob);
    expect(read.body.data.item).toBeNull();
    expect(await rowsOf(server, read.requestId)).toEqual([expect.objectContaining({ action: 'view_item', outcome: 'denied', access_reason: null, break_glass: false })]);
  });

  it('takes a code alone, and a bypass without any reason', async () => {
    const id = await createItem(server);
    const coded = await withReason(server, ITEM_QUERY, 'incident', { id });
    expect(await rowsOf(server, coded.requestId)).toEqual([expect.objectContaining({ access_reason: 'incident', access_reference: null })]);
    const none = await withReason(server, ITEM_QUERY, undefined, { id });
    expect(none.body.data.item.id).toBe(id);
    expect(await rowsOf(server, none.requestId)).toEqual([expect.objectContaining({ admin_bypass: true, access_reason: null })]);
  });

  it.each([
    ['an unknown code', 'curiosity'],
    ['a code in capitals', 'SUPPORT'],
    ['a reference over 200 characters', `support ${'x'.repeat(201)}`],
    ['a reference with a tab', 'support TICKET\t1'],
    ['a reference outside printable ASCII', 'support Ticket-é'],
  ])('refuses %s with BAD_USER_INPUT before anything runs, and records it', async (_what, reason) => {
    const id = await createItem(server);
    const refused = await withReason(server, ITEM_QUERY, reason, { id });
    expect(refused.status).toBe(400);
    expect(refused.body.data).toBeUndefined();
    expect(refused.body.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'Access-Reason' }) }),
    ]);
    expect(JSON.stringify(refused.body)).not.toContain('private notes');
    expect(await rowsOf(server, refused.requestId)).toEqual([
      expect.objectContaining({ action: 'invalid_argument', outcome: 'denied', access_reason: null, details: { argument: 'Access-Reason' } }),
    ]);
  });

  it('hashes the reason: the rows hash as the independent encoding says, and editing a reason changes the hash', async () => {
    const id = await createItem(server);
    const read = await withReason(server, ITEM_QUERY, 'support T-1', { id });
    const { data } = (await server.graphql(`{ auditLogs(filter: { requestId: "${read.requestId}" }) { nodes { rowHash } } }`, { as: admin })).body;
    const [row] = await server.sql<{ id: string }[]>`select id::text from audit_logs where request_id = ${read.requestId}`;
    expect((await independentRowHashes(server.sql)).get(row!.id)).toBe(data.auditLogs.nodes[0].rowHash);
    // As the owner could, with the append-only trigger off: the hash no longer matches the row.
    await server.sql.begin(async (tx) => {
      await tx`alter table audit_logs disable trigger user`;
      await tx`update audit_logs set access_reference = 'T-2' where id = ${row!.id}`;
      await tx`alter table audit_logs enable trigger user`;
    });
    const after = await server.graphql(`{ auditLogs(filter: { requestId: "${read.requestId}" }) { nodes { rowHash } } }`, { as: admin });
    expect(after.body.data.auditLogs.nodes[0].rowHash).not.toBe(data.auditLogs.nodes[0].rowHash);
  });

  // On PostgreSQL only: embedded test servers seal hourly, and auditStats counts sealed rows.
  (process.env.DATABASE_URL ? it : it.skip)('counts sealed rows by reason in auditStats, and filters by it', async () => {
    const id = await createItem(server);
    // Codes no other test here states, so the counts are this test's alone.
    for (const reason of ['legal L-1', 'legal L-2', 'fraud F-1']) await withReason(server, ITEM_QUERY, reason, { id });
    const stats = `{ auditStats(groupBy: [ACCESS_REASON], filter: { action: "admin_view_item", adminBypass: true }) { buckets { keys { accessReason } count } } }`;
    const counted = async () => (await server.graphql(stats, { as: admin })).body.data.auditStats.buckets;
    // Rows join the counts when sealed, about a second after they commit.
    for (let tries = 0; tries < 250; tries++) {
      const buckets = await counted();
      if (buckets.some((bucket: any) => bucket.keys.accessReason === 'fraud')) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const buckets = await counted();
    const countOf = (code: string | null) => buckets.find((bucket: any) => bucket.keys.accessReason === code)?.count;
    expect(countOf('legal')).toBe(2);
    expect(countOf('fraud')).toBe(1);
    expect(countOf(null)).toBeGreaterThan(0);
    const onlyLegal = await server.graphql(`{ auditStats(groupBy: [ACCESS_REASON], filter: { accessReason: "legal" }) { buckets { keys { accessReason } count } } }`, {
      as: admin,
    });
    expect(onlyLegal.body.data.auditStats.buckets).toEqual([{ keys: { accessReason: 'legal' }, count: 2 }]);
  });

  it('carries the reason of a WebSocket connection (connectionParams.accessReason) on its rows, and refuses a bad one with 4400', async () => {
    const bad = await SocketClient.open(server.url, { authorization: `Bearer ${await server.token(admin)}`, accessReason: 'because' });
    expect(await bad.closed).toEqual({ code: 4400, reason: 'Bad request: invalid connectionParams.accessReason' });
    const [refusal] = await server.sql<ReasonRow[]>`
      select action, outcome, details from audit_logs where action = 'invalid_argument' and details->>'argument' = 'connectionParams.accessReason'`;
    expect(refusal).toMatchObject({ outcome: 'denied' });

    const socket = await SocketClient.open(server.url, { authorization: `Bearer ${await server.token(admin)}`, accessReason: 'incident INC-7' });
    await socket.acknowledged();
    socket.subscribe('1', 'subscription { auditLogAdded { cursor } }');
    const started = async () =>
      server.sql<ReasonRow[]>`select action, outcome, admin_bypass, access_reason, access_reference, break_glass, owner_ids, details
        from audit_logs where action = 'view_audit_logs' and details->>'feed' = 'started' and access_reason = 'incident'`;
    for (let tries = 0; (await started()).length === 0 && tries < 250; tries++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await started()).toEqual([expect.objectContaining({ access_reference: 'INC-7' })]);
    socket.close();
    await socket.closed;
  });
});

describe('with ADMIN_ACCESS_REASON=required', () => {
  let server: TestServer;
  beforeAll(async () => {
    // The break-glass code is taken even when the codes leave it out.
    server = await startTestServer({ ADMIN_ACCESS_REASON: 'required', ACCESS_REASON_CODES: 'support' });
  });
  afterAll(() => server.stop());

  it("refuses an admin's read of someone else's item without a reason: no data, ACCESS_REASON_REQUIRED, a denied row", async () => {
    const id = await createItem(server);
    const refused = await withReason(server, ITEM_QUERY, undefined, { id });
    expect(refused.status).toBe(200);
    expect(refused.body.data).toEqual({ item: null });
    expect(refused.body.errors).toEqual([expect.objectContaining({ path: ['item'], extensions: { code: 'ACCESS_REASON_REQUIRED' } })]);
    expect(JSON.stringify(refused.body)).not.toContain('private notes');
    expect(await rowsOf(server, refused.requestId)).toEqual([
      expect.objectContaining({
        action: 'admin_view_item',
        outcome: 'denied',
        admin_bypass: true,
        owner_ids: ['alice'],
        details: expect.objectContaining({ reason: 'access_reason_required', fields: ['Query.item'] }),
      }),
    ]);
  });

  it('refuses a list spanning owners without a reason, whatever field returns the items, and serves it with one', async () => {
    await createItem(server, alice, 'alice list');
    await createItem(server, bob, 'bob list');
    const list = `{ items(first: 100) { totalCount nodes { ${ITEM_FIELDS} } edges { node { id title } } } }`;
    const refused = await withReason(server, list, undefined);
    // Refused before anything is read: no items, and no count or cursor that would name them.
    expect(refused.body.data).toBeNull();
    expect(refused.body.errors).toEqual([expect.objectContaining({ path: ['items'], extensions: { code: 'ACCESS_REASON_REQUIRED' } })]);
    expect(await rowsOf(server, refused.requestId)).toEqual([
      expect.objectContaining({ action: 'list_items', outcome: 'denied', admin_bypass: true, details: { reason: 'access_reason_required' } }),
    ]);
    const mine = await withReason(server, '{ items(ownerId: "root") { totalCount } }', undefined);
    expect(mine.body).toEqual({ data: { items: { totalCount: expect.any(Number) } } });
    const served = await withReason(server, list, 'support T-9');
    expect(served.body.errors).toBeUndefined();
    expect(served.body.data.items.nodes.map((item: any) => item.title)).toEqual(expect.arrayContaining(['alice list', 'bob list']));
  });

  it("refuses an admin's change of someone else's item without a reason: nothing changes, a denied row says why", async () => {
    const id = await createItem(server, alice, 'before');
    const refused = await withReason(server, UPDATE_ITEM, undefined, { id, input: { title: 'after' } });
    expect(refused.body.errors).toEqual([expect.objectContaining({ extensions: { code: 'ACCESS_REASON_REQUIRED' } })]);
    expect((await server.graphql(ITEM_QUERY, { as: alice, variables: { id } })).body.data.item.title).toBe('before');
    expect(await rowsOf(server, refused.requestId)).toEqual([
      expect.objectContaining({ action: 'update_item', outcome: 'denied', admin_bypass: true, details: { reason: 'access_reason_required', ownerId: 'alice' } }),
    ]);
    const changed = await withReason(server, UPDATE_ITEM, 'support T-10', { id, input: { title: 'after' } });
    expect(changed.body.data.updateItem.title).toBe('after');
    expect(await rowsOf(server, changed.requestId)).toEqual([
      expect.objectContaining({ action: 'update_item', outcome: 'success', access_reason: 'support', access_reference: 'T-10' }),
      expect.objectContaining({ action: 'admin_view_item', outcome: 'success', access_reason: 'support' }),
    ]);
  });

  it("never needs a reason for the admin's own records", async () => {
    const id = await createItem(server, admin, 'mine');
    const read = await withReason(server, ITEM_QUERY, undefined, { id });
    expect(read.body).toEqual({ data: { item: expect.objectContaining({ title: 'mine' }) } });
    const changed = await withReason(server, UPDATE_ITEM, undefined, { id, input: { title: 'still mine' } });
    expect(changed.body.data.updateItem.title).toBe('still mine');
  });

  it('takes break-glass though the codes leave it out: its rows are flagged, filterable and counted in /metrics', async () => {
    const before = sample((await scrape(server.url)).text, 'audit_break_glass_total', { action: 'admin_view_item', outcome: 'success' }) ?? 0;
    const id = await createItem(server);
    const read = await withReason(server, ITEM_QUERY, 'break-glass INC-1 outage', { id });
    expect(read.body.data.item.title).toBe('private notes');
    expect(await rowsOf(server, read.requestId)).toEqual([
      expect.objectContaining({ action: 'admin_view_item', access_reason: 'break-glass', access_reference: 'INC-1 outage', break_glass: true }),
    ]);
    const { data } = (await server.graphql('{ auditLogs(filter: { breakGlass: true }) { nodes { requestId accessReason { code breakGlass } } } }', {
      as: admin,
      headers: { 'access-reason': 'support audit review' },
    })).body;
    expect(data.auditLogs.nodes).toEqual([{ requestId: read.requestId, accessReason: { code: 'break-glass', breakGlass: true } }]);
    expect(sample((await scrape(server.url)).text, 'audit_break_glass_total', { action: 'admin_view_item', outcome: 'success' })).toBe(before + 1);
  });

  it('serves every metric the example alert rules use', async () => {
    const rules = readFileSync(path.resolve(__dirname, '../../docs/alerts/break-glass.yml'), 'utf8');
    const used = [...rules.matchAll(/^\s*expr: (.*)$/gm)].flatMap(([, expr]) => expr!.match(/\baudit_[a-z_]+\b/g) ?? []);
    expect(used).toEqual(expect.arrayContaining(['audit_break_glass_total', 'audit_seal_lag_seconds']));
    const served = (await scrape(server.url)).text;
    for (const metric of used) expect(served).toMatch(new RegExp(`^# TYPE ${metric} `, 'm'));
  });
});
