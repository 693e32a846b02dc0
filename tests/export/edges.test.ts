import { EXPORT_ENCODINGS } from '../../src/audit-logs/export/audit-log.export';
import { exportWindowOf } from '../../src/audit-logs/export/audit-log.export-window';
import type { ExportedRow } from '../../src/audit-logs/export/audit-log.exported-row';
import { ocsfApiActivity } from '../../src/audit-logs/export/audit-log.ocsf';
import { InvalidInput } from '../../src/core/errors';
import { AUDIT_ACTIONS } from '../../src/graphql/audit-actions';
import { auditRowsOfRequest } from '../support/audit-rows';
import { CREATE_ITEM, ITEM_QUERY, UPDATE_ITEM } from '../support/items';
import { ocsfApiActivityViolations } from '../support/ocsf-api-activity';
import { admin, alice, bob, startTestServer, type TestServer } from '../support/test-server';

/*
 * The edges of the audit export's input and output: dates that do not exist or that PostgreSQL
 * cannot hold, CSV cells a spreadsheet would run, and OCSF events for rows without a user or an IP.
 */

/** Calls `exportWindowOf` with `from` (or `to`) set to `text`, the other parameter a valid date. */
function windowWith(name: 'from' | 'to', text: string) {
  return exportWindowOf(name === 'from' ? { from: text, to: '9999-12-31' } : { from: '0001-01-01', to: text });
}

/** The {@link InvalidInput} that `run` throws. */
function invalidInputOf(run: () => unknown): InvalidInput {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidInput) return error;
    throw error;
  }
  throw new Error('no InvalidInput was thrown');
}

describe('exportWindowOf: dates', () => {
  it.each([
    ['from', '2026-01-01', '2026-01-01T00:00:00.000Z'],
    ['from', '2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['from', '2026-01-01T00:00Z', '2026-01-01T00:00:00.000Z'],
    ['from', '2026-06-30T23:59:59.999999Z', '2026-06-30T23:59:59.999Z'],
    ['from', '2024-02-29T00:30:00+05:30', '2024-02-28T19:00:00.000Z'],
    ['from', '2026-12-31T22:00:00-02:00', '2027-01-01T00:00:00.000Z'],
    ['from', '0001-01-01', '0001-01-01T00:00:00.000Z'],
    ['from', '0001-01-01T00:00:00-01:00', '0001-01-01T01:00:00.000Z'],
    ['to', '9999-12-31T23:59:59.999999Z', '9999-12-31T23:59:59.999Z'],
    ['to', '9999-12-31T23:59:59+00:01', '9999-12-31T23:58:59.000Z'],
  ] as const)('reads %s=%s as %s', (name, text, instant) => {
    expect(windowWith(name, text)[name].toISOString()).toBe(instant);
  });

  it.each([
    ['2026-02-31', /is not a date and time of the calendar/],
    ['2025-02-29', /is not a date and time of the calendar/],
    ['2026-04-31T00:00:00Z', /is not a date and time of the calendar/],
    ['2026-13-01', /is not a date and time of the calendar/],
    ['2026-00-10', /is not a date and time of the calendar/],
    ['2026-01-00', /is not a date and time of the calendar/],
    ['2026-01-01T25:00:00Z', /is not a date and time of the calendar/],
    ['2026-01-01T24:00:00Z', /is not a date and time of the calendar/],
    ['2026-01-01T23:60:00Z', /is not a date and time of the calendar/],
    ['2026-01-01T23:59:60Z', /is not a date and time of the calendar/],
    ['2026-01-01T00:00:00+24:00', /is not a date and time of the calendar/],
    ['2026-01-01T00:00:00+05:60', /is not a date and time of the calendar/],
    ['0000-01-01', /must fall within the years 0001 to 9999/],
    ['0001-01-01T00:00:00+01:00', /must fall within the years 0001 to 9999/],
    ['9999-12-31T23:00:00-02:00', /must fall within the years 0001 to 9999/],
    ['10000-01-01', /must be a timestamp with its zone/],
    ['2026-01-01T00:00:00', /must be a timestamp with its zone/],
  ])('refuses %s, naming the parameter', (text, reason) => {
    for (const name of ['from', 'to'] as const) {
      const error = invalidInputOf(() => windowWith(name, text));
      expect(error.field).toBe(name);
      expect(error.message).toMatch(new RegExp(`^${name}: ${reason.source}`));
    }
  });
});

/** A row whose every column is plain text, so that a line of it shows one cell under test. */
const PLAIN_ROW: ExportedRow = {
  id: '1',
  occurredAt: '2026-01-01T00:00:00.000000Z',
  userId: 'alice',
  userRole: 'USER',
  action: 'update_item',
  resourceType: 'item',
  resourceId: '7',
  resourceIds: [],
  ownerIds: ['alice'],
  outcome: 'success',
  adminBypass: false,
  details: {},
  requestId: 'req-1',
  operationName: 'Rename',
  ip: '10.0.0.1',
  userAgent: null,
  accessReason: null,
  accessReference: null,
  breakGlass: false,
};

/** How the CSV export writes `userAgent` as a cell, exactly: what stands between the cells around it. */
function csvCellOf(userAgent: string): string {
  const { line } = EXPORT_ENCODINGS.csv;
  const [before, after] = line({ ...PLAIN_ROW, userAgent: 'PLAIN' }, AUDIT_ACTIONS).split('PLAIN') as [string, string];
  return line({ ...PLAIN_ROW, userAgent }, AUDIT_ACTIONS).slice(before.length, -after.length);
}

describe('CSV cells', () => {
  it.each([
    ['=1+2', `'=1+2`],
    ['+1', `'+1`],
    ['-1', `'-1`],
    ['@SUM(A1)', `'@SUM(A1)`],
    ['\t=1+2', `"'\t=1+2"`],
    ['\r=1+2', `"'\r=1+2"`],
    ['＝1+2', `'＝1+2`],
    ['＋1', `'＋1`],
    ['－1', `'－1`],
    ['＠SUM(A1)', `'＠SUM(A1)`],
    [' =1+2', `' =1+2`],
    ['\u00a0\u3000@SUM(A1)', `'\u00a0\u3000@SUM(A1)`],
    ['\n=1+2', `"'\n=1+2"`],
  ])('defuses %j, which a spreadsheet would run: %j', (text, cell) => {
    expect(csvCellOf(text)).toBe(cell);
  });

  it.each([
    ['Mozilla;=1+2;x', '"Mozilla;=1+2;x"'],
    ['Mozilla,=1+2,x', '"Mozilla,=1+2,x"'],
    ['a\t=1+2', '"a\t=1+2"'],
    ['say "hi"', '"say ""hi"""'],
    ['line\nbreak', '"line\nbreak"'],
    // OWASP's two examples (CSV Injection, owasp.org/www-community/attacks/CSV_Injection).
    ['=1+2";=1+2', `"'=1+2"";=1+2"`],
    [`=1+2'" ;,=1+2`, `"'=1+2'"" ;,=1+2"`],
  ])('quotes %j, so that its separators, quotes and line breaks stay inside one field: %j', (text, cell) => {
    expect(csvCellOf(text)).toBe(cell);
  });

  it.each([['Mozilla/5.0'], ['a-b+c=d@e'], ['req-1'], ['']])('leaves %j as it is', (text) => {
    expect(csvCellOf(text)).toBe(text);
  });
});

describe('ocsfApiActivity', () => {
  it('gives a row without a user or an IP (a command line run) an actor and a source', () => {
    const event = ocsfApiActivity({ ...PLAIN_ROW, userId: null, userRole: null, ip: null, action: 'export_audit_logs', resourceType: null }, AUDIT_ACTIONS);
    expect(ocsfApiActivityViolations(event)).toEqual([]);
    expect(event).toMatchObject({ actor: { user: { name: 'anonymous', type_id: 0, type: 'Unknown' } }, src_endpoint: { name: 'unknown' } });
    expect((event.actor as any).user).not.toHaveProperty('uid');
    expect(event.resources).toEqual([{ uid: '7', owner: { uid: 'alice' } }]);
  });

  it('names the database session as the actor of a change made outside the API', () => {
    const database = { role: 'dba', applicationName: 'psql', backendPid: 4242 };
    const event = ocsfApiActivity({ ...PLAIN_ROW, userId: null, userRole: null, action: 'update_item', details: { changes: {}, database } }, AUDIT_ACTIONS);
    expect(ocsfApiActivityViolations(event)).toEqual([]);
    expect(event.actor).toEqual({ user: { name: 'dba', type_id: 99, type: 'Other' }, app_name: 'psql', process: { pid: 4242 } });
  });

  it('has a checker that finds what OCSF 1.1 API Activity lacks', () => {
    const event = ocsfApiActivity(PLAIN_ROW, AUDIT_ACTIONS);
    expect(ocsfApiActivityViolations(event)).toEqual([]);
    const without = (name: string) => Object.fromEntries(Object.entries(event).filter(([key]) => key !== name));
    expect(ocsfApiActivityViolations(without('actor'))).toEqual(['at event: api_activity requires actor']);
    expect(ocsfApiActivityViolations(without('src_endpoint'))).toEqual(['at event: api_activity requires src_endpoint']);
    expect(ocsfApiActivityViolations({ ...event, actor: {} })).toEqual([
      'at event.actor: actor needs at least one of process, user, invoked_by, session',
    ]);
    expect(ocsfApiActivityViolations({ ...event, src_endpoint: { port: 443 } })).toEqual([
      'at event.src_endpoint: network_endpoint needs at least one of ip, uid, name, hostname, svc_name, instance_uid, interface_uid, interface_name',
    ]);
    expect(ocsfApiActivityViolations({ ...event, metadata: { version: '1.1.0', product: { name: 'x' } } })).toEqual([
      'at event.metadata.product: product requires vendor_name',
    ]);
    expect(ocsfApiActivityViolations({ ...event, resources: [{ type: null, uid: '7' }] })).toEqual(['at event.resources[0].type: null (leave an unknown attribute out)']);
    expect(ocsfApiActivityViolations({ ...event, activity_id: 5 })).toEqual(['at event.activity_id: 5 is not one of 0, 1, 2, 3, 4, 99']);
    expect(ocsfApiActivityViolations({ ...event, activity_name: 'Read' })).toEqual(['at event.activity_name: "Read" does not name activity_id 3 (Update)']);
    expect(ocsfApiActivityViolations({ ...event, type_uid: 600301 })).toEqual(['at event.type_uid: 600301 is not class_uid * 100 + activity_id']);
  });
});

describe('GET /audit/export at its edges', () => {
  let server: TestServer;
  let adminToken: string;
  /** A window holding every row this suite's server records. */
  const WINDOW = { from: new Date(Date.now() - 60_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() };
  /** User agents a spreadsheet would run, or split into cells that it would. */
  const HOSTILE_AGENTS = ['=1+2', '＝HYPERLINK("http://evil")', ' @SUM(A1)', 'Mozilla;=1+2;x', '\t-1+2', 'say "hi",=1'];

  beforeAll(async () => {
    server = await startTestServer();
    adminToken = await server.token(admin);
    // A refused anonymous export, a success, a denial and an admin bypass, as the API records them.
    expect((await fetch(`${server.url}/audit/export?${new URLSearchParams(WINDOW)}`)).status).toBe(401);
    const created = await server.graphql(CREATE_ITEM, { as: alice, variables: { input: { title: 'Mine' } } });
    const id = created.body.data.createItem.id;
    await server.graphql(UPDATE_ITEM, { as: bob, variables: { id, input: { title: 'Yours' } } });
    await server.graphql(ITEM_QUERY, { as: admin, variables: { id } });
    // Rows as a command line run records them (no user, no IP), one per hostile user agent.
    await server.sql`
      insert into audit_logs (action, resource_type, outcome, operation_name, user_agent)
      select 'export_audit_logs', 'audit_log', 'success', 'audit:export', agent from unnest(${HOSTILE_AGENTS}::text[]) agent`;
  });
  afterAll(() => server?.stop());

  const get = (query: Record<string, string>) =>
    fetch(`${server.url}/audit/export?${new URLSearchParams(query)}`, { headers: { authorization: `Bearer ${adminToken}` } });

  it.each([
    [{ from: '0000-01-01', to: '2026-01-01' }, 'from'],
    [{ from: '2026-02-31', to: '2026-04-01' }, 'from'],
    [{ from: '2026-01-01', to: '2026-01-01T24:00:00Z' }, 'to'],
    [{ from: '2026-01-01', to: '9999-12-31T23:00:00-02:00' }, 'to'],
  ])('refuses %j with 400 BAD_USER_INPUT naming %s, and records the refusal', async (query, field) => {
    const response = await get(query);
    expect(response.status).toBe(400);
    const body = (await response.json()) as any;
    expect(body.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field });
    expect(body.errors[0].message).toMatch(new RegExp(`^${field}: `));
    // One denied row, as for any bad parameter: its shape is the route's, tested with it.
    expect(await auditRowsOfRequest(server.sql, response.headers.get('x-request-id')!)).toEqual([expect.objectContaining({ outcome: 'denied' })]);
  });

  it('exports the widest window PostgreSQL holds, 0001-01-01 to 9999-12-31', async () => {
    const response = await get({ from: '0001-01-01', to: '9999-12-31T23:59:59.999999Z' });
    expect(response.status).toBe(200);
    await response.text();
  });

  it('writes every hostile user agent as one defused cell', async () => {
    const text = await (await get({ ...WINDOW, format: 'csv' })).text();
    for (const cell of [`'=1+2`, `"'＝HYPERLINK(""http://evil"")"`, `' @SUM(A1)`, `"Mozilla;=1+2;x"`, `"'\t-1+2"`, `"say ""hi"",=1"`]) {
      // The user agent, then the request's access reason, reference and break-glass flag (none here).
      expect(text).toContain(`,${cell},,,false\r\n`);
    }
  });

  it('writes every row as a valid OCSF 1.1 API Activity event', async () => {
    const response = await get({ ...WINDOW, format: 'ocsf' });
    expect(response.status).toBe(200);
    const events = (await response.text()).trimEnd().split('\n').map((line) => JSON.parse(line));
    const kinds = events.map(({ status_detail, actor, unmapped }) => ({
      outcome: status_detail,
      user: actor?.user?.uid ?? null,
      adminBypass: unmapped.admin_bypass,
    }));
    expect(kinds).toEqual(
      expect.arrayContaining([
        { outcome: 'denied', user: null, adminBypass: false },
        { outcome: 'success', user: 'alice', adminBypass: false },
        { outcome: 'denied', user: 'bob', adminBypass: false },
        { outcome: 'success', user: 'root', adminBypass: true },
      ]),
    );
    const invalid = events.map((event) => ({ uid: event.metadata.uid, violations: ocsfApiActivityViolations(event) })).filter(({ violations }) => violations.length > 0);
    expect(invalid).toEqual([]);
  });
});
