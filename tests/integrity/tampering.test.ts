import 'reflect-metadata';
import { generateKeyPairSync, createPrivateKey, sign } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { publicKeyFromText, sealOnce, verifyTrail } from '../../src/audit/operations';
import { signToken } from '../../src/auth/token-signer';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/config/logger';
import { startServer } from '../../src/server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { postGraphQL } from '../support/graphql-http';
import { independentAnchorProblems, independentRollupProblems, independentRowHashes, rewriteChainFrom } from '../support/independent-verifier';
import { itemResource } from '../../src/items/item.audit';
import { withBackstopOff } from '../support/backstop-off';
import { CREATE_ITEM, UPDATE_ITEM } from '../support/items';
import { ANCHOR_CLI, killAll, logLines, ROOT, run, startApi, stopApi, VERIFY_CLI, type Exit, type RunningApi } from '../support/node-process';
import { TEST_AUDIT_PUBLIC_KEY, TEST_AUDIT_SIGNING_KEY, TEST_JWT_SECRET } from '../support/test-server';

/**
 * Tampering by whoever owns the database: each of the issue's eight ways, done as a superuser with
 * the trail's triggers off, is caught by `npm run audit:verify`, which names the first bad seal or
 * row; so are rollups edited by the owner and anchor files that disagree with themselves; and one
 * chain survives the sealing process's `kill -9`. Each case starts from the same
 * sealed trail, restored after it. Needs a real PostgreSQL (server processes share the database).
 */

jest.setTimeout(300_000);

const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;
const SEALER_LINE = 'this process seals the audit trail (it holds the sealer lease)';
/**
 * How often the file checks on what a server process does: the sealer seals every 100 ms here,
 * so a check every 20 ms notices each seal about as soon as it commits.
 */
const POLL_MS = 20;
const pause = () => new Promise((resolve) => setTimeout(resolve, POLL_MS));
/** The moment `ms` from now: a wait bounded by time, however long each of its checks takes. */
const deadline = (ms: number) => Date.now() + ms;
/** The counts auditStats reads, kept by a trigger on each seal insert (drizzle/0011). */
const ROLLUP_TABLES = ['audit_stats_hourly', 'audit_stats_daily', 'audit_stats_user_daily'] as const;

describeOnPostgres('tamper evidence', () => {
  let database: TestDatabase;
  let sql: postgres.Sql;
  let anchorDir: string;
  const env = () => ({
    DATABASE_URL: database.url,
    JWT_SECRET: TEST_JWT_SECRET,
    AUDIT_SIGNING_KEY: TEST_AUDIT_SIGNING_KEY,
    AUDIT_SEAL_INTERVAL_MS: '100',
    PORT: '0',
  });

  /** `verifyTrail` on the database at `url`, as the CLI runs it: two connections, the key from --public-key, the items checked against the trail. */
  async function verifyTrailAt(url: string, records = [itemResource]) {
    const verifier = postgres(url, { max: 2, onnotice: () => {} });
    try {
      const result = await verifyTrail(verifier, { publicKey: publicKeyFromText(TEST_AUDIT_PUBLIC_KEY)!, records });
      return result.ok ? result : { seal: result.seal, row: result.row, record: result.record, reason: result.reason };
    } finally {
      // As the CLI closes its pool: a verify that failed first cancels its rollup recount, and a
      // cancel that reaches PostgreSQL before the query starts is ignored, which end() would await.
      await verifier.end({ timeout: 5 });
    }
  }

  beforeAll(async () => {
    // Migrated already: how the server migrates at start is not what this file tests.
    database = await createTestDatabase({ migrated: true });
    sql = postgres(database.url, { max: 1, onnotice: () => {} });
    anchorDir = await mkdtemp(path.join(tmpdir(), 'anchors-'));
  });
  afterAll(async () => {
    killAll();
    await sql?.end();
    await database?.drop();
    if (anchorDir) await rm(anchorDir, { recursive: true, force: true });
  });

  /**
   * Waits until every row is sealed and at least `seals` seals exist: the horizon waits for every
   * writing transaction on the cluster, and other test files hold some open for seconds.
   */
  async function untilSealed(seals = 1, api?: RunningApi): Promise<void> {
    let state: { unsealed: number; seals: number } | undefined;
    for (const end = deadline(90_000); Date.now() < end; ) {
      [state] = await sql<{ unsealed: number; seals: number }[]>`
        select (select count(*)::int from audit_logs a where not exists (select from audit_row_hashes h where h.id = a.id)) as unsealed,
               (select count(*)::int from audit_seals) as seals`;
      if (state!.unsealed === 0 && state!.seals >= seals) return;
      await pause();
    }
    throw new Error(`not sealed after 90 s: ${JSON.stringify(state)}, expected ${seals} seals\n${api?.proc.output.stdout ?? ''}`);
  }

  /**
   * The server in this process, on the database at `url`: for the trails that need audited traffic
   * and seals but no process of their own (a process start costs about a second of CPU); only the
   * `kill -9` of the sealing one below needs processes.
   */
  async function startInProcess(url: string): Promise<{ url: string; stop(): Promise<void> }> {
    const server = await startServer(loadConfig({ ...env(), DATABASE_URL: url }), createLogger('silent'));
    return { url: `${server.url}/graphql`, stop: () => server.stop() };
  }

  /** Some audited traffic through the API at `api.url`: items created and changed, an admin's read, a refusal. */
  async function traffic(api: { url: string }, round: number): Promise<void> {
    const alice = { authorization: `Bearer ${await signToken(TEST_JWT_SECRET, { sub: 'alice' })}` };
    const root = { authorization: `Bearer ${await signToken(TEST_JWT_SECRET, { sub: 'root', role: 'admin' })}` };
    const created = await postGraphQL(api.url, { query: CREATE_ITEM, variables: { input: { title: `round ${round}` } } }, alice);
    const id = created.body.data.createItem.id;
    await postGraphQL(api.url, { query: UPDATE_ITEM, variables: { id, input: { description: `changed in round ${round}` } } }, alice);
    await postGraphQL(api.url, { query: '{ items(first: 5) { nodes { id title } } }' }, root);
    await postGraphQL(api.url, { query: '{ auditLogs { nodes { id } } }' }, alice);
  }

  const verify = (...args: string[]) => run(VERIFY_CLI, ['--public-key', TEST_AUDIT_PUBLIC_KEY, ...args], { DATABASE_URL: database.url });
  /** The records the CLI checks against the trail: the items the traffic made, none of them deleted. */
  const itemRecords = async () => (await sql<{ count: number }[]>`select count(*)::int as count from items`)[0]!.count;
  /**
   * What `npm run audit:verify` finds, checked in this process to spare a process start per case:
   * the CLI prints the `seal`, `row` and `reason` of this result as `FAILED: seal S, row R: reason`,
   * and the counts as its `OK` line. The CLI itself runs where what it adds is tested (the OK line,
   * the key it trusts, --anchors and its warnings) and in 1. and 5., naming a row and a seal.
   */
  const verdict = () => verifyTrailAt(database.url);
  const anchor = (file: string) => run(ANCHOR_CLI, [], { DATABASE_URL: database.url, AUDIT_ANCHOR_FILE: file });
  /** As the owner or a superuser can: the trail's append-only triggers skipped (a replica session), its stamp switched off. */
  const asOwner = (work: (tx: postgres.TransactionSql) => Promise<unknown>) =>
    sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`alter table audit_logs disable trigger audit_logs_stamp_server_values`;
      await work(tx);
      await tx`alter table audit_logs enable always trigger audit_logs_stamp_server_values`;
    });

  describe('on a sealed trail', () => {
    let head: { sequence: number; hash: string };
    /** A row of a seal in the middle of the chain, and that seal. */
    let target: { id: string; seal: number };
    /**
     * `npm run audit:anchor` run once on the sealed trail, appending to {@link headAnchors}: every
     * case that anchors starts from that same head (restored after each), so they share the run,
     * and each checks it succeeded before it relies on it.
     */
    let published: Exit;
    const headAnchors = () => path.join(anchorDir, 'head.jsonl');

    beforeAll(async () => {
      const api = await startInProcess(database.url);
      try {
        for (let round = 0; round < 3; round++) {
          await traffic(api, round);
          await untilSealed(round + 1);
        }
      } finally {
        await api.stop();
      }
      await untilSealed();
      [head] = await sql<{ sequence: number; hash: string }[]>`select sequence::int, hash from audit_seals order by sequence desc limit 1`;
      expect(head!.sequence).toBeGreaterThanOrEqual(3);
      const [row] = await sql<{ id: string }[]>`select id::text from audit_row_hashes where seal = 2 order by id desc limit 1`;
      target = { id: row!.id, seal: 2 };
      await sql`create table snapshot_logs as select * from audit_logs`;
      await sql`create table snapshot_seals as select * from audit_seals`;
      await sql`create table snapshot_hashes as select * from audit_row_hashes`;
      for (const rollup of ROLLUP_TABLES) await sql`create table ${sql(`snapshot_${rollup}`)} as select * from ${sql(rollup)}`;
      published = await anchor(headAnchors());
    });

    afterEach(() =>
      asOwner(async (tx) => {
        await tx`delete from audit_logs`;
        await tx`delete from audit_seals`;
        await tx`delete from audit_row_hashes`;
        await tx`insert into audit_logs overriding system value select * from snapshot_logs`;
        await tx`insert into audit_seals select * from snapshot_seals`;
        await tx`insert into audit_row_hashes select * from snapshot_hashes`;
        for (const rollup of ROLLUP_TABLES) {
          await tx`delete from ${tx(rollup)}`;
          await tx`insert into ${tx(rollup)} select * from ${tx(`snapshot_${rollup}`)}`;
        }
      }),
    );

    it('verifies: OK with the counts, exit 0', async () => {
      const [{ rows }] = await sql<{ rows: number }[]>`select count(*)::int as rows from audit_logs`;
      expect(await verify()).toMatchObject({
        code: 0,
        stdout: `OK: ${head.sequence} seals, ${rows} sealed rows unchanged, 0 removed by recorded retention, 0 not sealed yet; ${await itemRecords()} records as the trail last recorded them; 0 anchors hold; head seal ${head.sequence} ${head.hash}\n`,
        stderr: '',
      });
      expect(await independentRollupProblems(sql)).toEqual([]);
    });

    it('fails with a key it does not trust', async () => {
      const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!;
      // Joined with `=`: a base64url key starts with '-' one time in 64, which parseArgs would take for an option.
      const result = await run(VERIFY_CLI, [`--public-key=${other}`], { DATABASE_URL: database.url });
      expect(result).toMatchObject({ code: 1, stdout: `FAILED: seal 1: it names public key ${TEST_AUDIT_PUBLIC_KEY}, not the trusted ${other}\n` });
    });

    it('1. catches an edited details, naming the row', async () => {
      await asOwner((tx) => tx`update audit_logs set details = details || '{"note": "edited"}' where id = ${target.id}`);
      expect(await verify()).toMatchObject({
        code: 1,
        stdout: `FAILED: seal 2, row ${target.id}: the row differs from what was sealed: its hash does not match\n`,
      });
    });

    it('2. catches an edited row whose row hash was recomputed, naming the seal', async () => {
      await asOwner(async (tx) => {
        await tx`update audit_logs set user_id = 'someone-else' where id = ${target.id}`;
        const hash = (await independentRowHashes(tx as unknown as postgres.Sql)).get(target.id)!;
        await tx`update audit_row_hashes set row_hash = decode(${hash}, 'hex') where id = ${target.id}`;
      });
      expect(await verdict()).toEqual({ seal: 2, reason: 'its rows hash does not match the stored row hashes: a row hash was rewritten' });
    });

    it('3. catches a deleted row, naming it', async () => {
      await asOwner((tx) => tx`delete from audit_logs where id = ${target.id}`);
      expect(await verdict()).toEqual({ seal: 2, row: target.id, reason: 'the row was sealed but is missing: deleted' });
    });

    it('4. catches a forged row inserted into sealed history, naming it', async () => {
      const forged = String(BigInt(target.id) + 1n);
      expect(await sql`select from audit_logs where id = ${forged}`).toHaveLength(0);
      await asOwner(
        (tx) => tx`insert into audit_logs (id, occurred_at, xact_id, user_id, user_role, action, resource_type, resource_id, outcome)
          overriding system value
          select ${forged}, occurred_at, xact_id, 'alice', 'USER', 'delete_item', 'item', '1', 'success' from audit_logs where id = ${target.id}`,
      );
      expect(await verdict()).toEqual({ seal: 2, row: forged, reason: "the row lies in seal 2's window but was not sealed: inserted afterwards" });
    });

    it('5. catches a removed seal, naming it', async () => {
      await asOwner((tx) => tx`delete from audit_seals where sequence = 2`);
      expect(await verify()).toMatchObject({ code: 1, stdout: 'FAILED: seal 2: seal 2 is missing: the chain goes from 1 to 3\n' });
    });

    it('6. catches a chain rewritten without the signing key, naming the first rewritten seal', async () => {
      const forger = generateKeyPairSync('ed25519').privateKey;
      await asOwner(async (tx) => {
        await tx`update audit_logs set details = '{}' where id = ${target.id}`;
        await rewriteChainFrom(tx as unknown as postgres.Sql, target.seal, (hash) => sign(null, hash, forger));
      });
      expect(await verdict()).toEqual({ seal: 2, reason: 'its signature is not valid for the trusted public key' });
    });

    it('7. catches a chain rewritten and re-signed with the stolen key through an anchor', async () => {
      const anchors = headAnchors();
      expect(published).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(published.stdout)).toMatchObject({ sequence: head.sequence, hash: head.hash, publicKey: TEST_AUDIT_PUBLIC_KEY });
      expect(await readFile(anchors, 'utf8')).toBe(published.stdout);

      const stolen = createPrivateKey({ key: Buffer.from(TEST_AUDIT_SIGNING_KEY, 'base64'), format: 'der', type: 'pkcs8' });
      await asOwner(async (tx) => {
        await tx`update audit_logs set details = '{}' where id = ${target.id}`;
        await rewriteChainFrom(tx as unknown as postgres.Sql, target.seal, (hash) => sign(null, hash, stolen));
      });
      // The rewritten chain is consistent and signed: only what was published outside tells.
      expect(await verdict()).toMatchObject({ ok: true });
      const [{ hash }] = await sql<{ hash: string }[]>`select hash from audit_seals where sequence = ${head.sequence}`;
      expect(await verify('--anchors', anchors)).toMatchObject({
        code: 1,
        stdout: `FAILED: seal ${head.sequence}: its hash ${hash} differs from the anchored ${head.hash}: the chain was rewritten\n`,
      });
    });

    it('8. catches a truncated tail through an anchor', async () => {
      const anchors = headAnchors();
      expect(published).toMatchObject({ code: 0 });
      await asOwner(async (tx) => {
        await tx`delete from audit_logs a using audit_row_hashes h where h.id = a.id and h.seal = ${head.sequence}`;
        await tx`delete from audit_row_hashes where seal = ${head.sequence}`;
        await tx`delete from audit_seals where sequence = ${head.sequence}`;
      });
      // The rollups still count the cut rows...
      expect(await verdict()).toEqual({ reason: expect.stringMatching(/^rollup audit_stats_hourly, bucket /) });
      // ...until the owner recounts them from what is left, as the seal trigger would have.
      await asOwner(async (tx) => {
        for (const rollup of ROLLUP_TABLES) await tx`delete from ${tx(rollup)}`;
        await tx`select audit_stats_roll_up('0'::xid8, horizon) from audit_seals order by sequence desc limit 1`;
      });
      // The chain left is consistent and signed (the items whose changes went with the tail may tell,
      // if it held any); the anchor tells in any case.
      expect(await verifyTrailAt(database.url, [])).toMatchObject({ ok: true });
      expect(await verify('--anchors', anchors)).toMatchObject({
        code: 1,
        stdout: `FAILED: seal ${head.sequence}: the anchored seal ${head.sequence} is gone: the chain ends at ${head.sequence - 1}, so its tail was cut\n`,
      });
    });

    /** The first bucket of `rollup` in verify's order (bucket, then key), as verify's failure names it. */
    async function firstBucket(rollup: (typeof ROLLUP_TABLES)[number], where = sql`true`) {
      const [row] = await sql<{ bucket: string; user_id: string | null; action: string; outcome: string; user_role: string | null; resource_type: string | null; admin_bypass: boolean; access_reason: string | null; count: string }[]>`
        select to_char(bucket_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as bucket, ${rollup === 'audit_stats_user_daily' ? sql`user_id` : sql`null as user_id`},
               action, outcome, user_role, resource_type, admin_bypass, access_reason, count::text
        from ${sql(rollup)} where ${where}
        order by bucket_start, ${rollup === 'audit_stats_user_daily' ? sql`user_id, ` : sql``}action, outcome, user_role, resource_type, admin_bypass, access_reason limit 1`;
      const text = (value: string | null) => (value === null ? 'null' : `"${value}"`);
      return {
        ...row!,
        named: `rollup ${rollup}, bucket ${row!.bucket} (${rollup === 'audit_stats_user_daily' ? `user_id ${text(row!.user_id)}, ` : ''}action "${row!.action}", ` +
          `outcome "${row!.outcome}", user_role ${text(row!.user_role)}, resource_type ${text(row!.resource_type)}, admin_bypass ${row!.admin_bypass}, access_reason ${text(row!.access_reason)})`,
      };
    }

    it("catches a rollup count the owner edited, naming the bucket (the seal's trigger in place)", async () => {
      const bucket = await firstBucket('audit_stats_daily', sql`action = 'admin_view_item'`);
      expect(Number(bucket.count)).toBeGreaterThan(0);
      await sql`update audit_stats_daily set count = 0 where action = 'admin_view_item'`;
      expect(await verdict()).toEqual({ reason: `${bucket.named}: it stores count 0, but the sealed rows count ${bucket.count}: the count was changed` });
      expect(await independentRollupProblems(sql)).toEqual([expect.stringMatching(/^audit_stats_daily .*"admin_view_item".*: stored 0, sealed rows [1-9]/)]);
    });

    it('catches a rollup row the owner deleted, naming the bucket', async () => {
      const bucket = await firstBucket('audit_stats_hourly');
      await sql`delete from audit_stats_hourly where bucket_start = (select min(bucket_start) from audit_stats_hourly) and action = ${bucket.action}
        and outcome = ${bucket.outcome} and user_role is not distinct from ${bucket.user_role} and resource_type is not distinct from ${bucket.resource_type}
        and admin_bypass = ${bucket.admin_bypass} and access_reason is not distinct from ${bucket.access_reason}`;
      expect(await verdict()).toEqual({ reason: `${bucket.named}: it has no row, but the sealed rows count ${bucket.count}: the row was deleted` });
      expect(await independentRollupProblems(sql)).toEqual([expect.stringMatching(/^audit_stats_hourly .*: not stored, sealed rows [1-9]/)]);
    });

    it('catches a rollup row the owner inserted, naming the bucket', async () => {
      await sql`insert into audit_stats_user_daily (bucket_start, user_id, action, outcome, user_role, resource_type, admin_bypass, count)
        select bucket_start, 'mallory', action, outcome, 'USER', resource_type, false, 3 from audit_stats_user_daily order by bucket_start limit 1`;
      const bucket = await firstBucket('audit_stats_user_daily', sql`user_id = 'mallory'`);
      expect(await verdict()).toEqual({ reason: `${bucket.named}: it stores count 3, but no sealed row falls in it: the row was inserted` });
      expect(await independentRollupProblems(sql)).toEqual([expect.stringMatching(/^audit_stats_user_daily .*"mallory".*: stored 3, sealed rows 0$/)]);
    });

    describe('anchor files', () => {
      const line = (sequence: number, hash: string) => `${JSON.stringify({ sequence, hash })}\n`;
      const FORGED = 'f'.repeat(64);
      const anchorFile = async (name: string, lines: string[]) => {
        const file = path.join(anchorDir, name);
        await writeFile(file, lines.join(''));
        return file;
      };

      it('fail when a line for the same seal disagrees, even with the right line appended after it', async () => {
        const file = await anchorFile('conflict-first.jsonl', [line(head.sequence, FORGED), line(head.sequence, head.hash)]);
        expect(await verify('--anchors', file)).toMatchObject({
          code: 1,
          stdout: `FAILED: seal ${head.sequence}: the anchors disagree on it: line 1 has ${FORGED}, line 2 has ${head.hash}; at most one was published from this chain\n`,
        });
        expect(await independentAnchorProblems(sql, await readFile(file, 'utf8'))).toContain(`seal ${head.sequence}: anchored as ${FORGED} and as ${head.hash}`);
      });

      it('fail when a disagreeing line is appended after the right one', async () => {
        expect(published).toMatchObject({ code: 0 });
        const file = await anchorFile('conflict-after.jsonl', [published.stdout, line(head.sequence, FORGED)]);
        expect(await verify('--anchors', file)).toMatchObject({
          code: 1,
          stdout: `FAILED: seal ${head.sequence}: the anchors disagree on it: line 1 has ${head.hash}, line 2 has ${FORGED}; at most one was published from this chain\n`,
        });
        expect(await independentAnchorProblems(sql, await readFile(file, 'utf8'))).toContain(`seal ${head.sequence}: anchored as ${head.hash} and as ${FORGED}`);
      });

      it('pass with a warning for each repeated or out-of-order line, and none for a head anchored again', async () => {
        const hashOf = async (sequence: number) => (await sql<{ hash: string }[]>`select hash from audit_seals where sequence = ${sequence}`)[0]!.hash;
        expect(published).toMatchObject({ code: 0 });
        // The same head anchored an hour later, no seal made in between: only anchoredAt differs.
        const again = `${JSON.stringify({ ...JSON.parse(published.stdout), anchoredAt: new Date(Date.now() + 3_600_000).toISOString() })}\n`;
        const file = await anchorFile('repeated.jsonl', [line(1, await hashOf(1)), published.stdout, published.stdout, again, line(2, await hashOf(2))]);
        const [{ rows }] = await sql<{ rows: number }[]>`select count(*)::int as rows from audit_logs`;
        expect(await verify('--anchors', file)).toMatchObject({
          code: 0,
          stdout:
            `WARNING: anchors: line 3 repeats line 2 (sequence ${head.sequence})\n` +
            `WARNING: anchors: line 5 (sequence 2) comes after sequence ${head.sequence}\n` +
            `OK: ${head.sequence} seals, ${rows} sealed rows unchanged, 0 removed by recorded retention, 0 not sealed yet; ${await itemRecords()} records as the trail last recorded them; 5 anchors hold; head seal ${head.sequence} ${head.hash}\n`,
          stderr: '',
        });
        expect(await independentAnchorProblems(sql, await readFile(file, 'utf8'))).toEqual([]);
      });
    });

    it('names the lowest of several bad rows, whatever order they are read in', async () => {
      const [seal] = await sql<{ seal: number; lowest: string; highest: string }[]>`
        select seal::int, min(id)::text as lowest, max(id)::text as highest from audit_row_hashes group by seal having count(*) > 1 order by seal limit 1`;
      const { lowest, highest } = seal!;
      const edit = (id: string) => asOwner((tx) => tx`update audit_logs set details = details || '{"note": "edited"}' where id = ${id}`);
      const remove = (id: string) => asOwner((tx) => tx`delete from audit_logs where id = ${id}`);
      // A missing row is only known once all the others were read; it must still come first.
      await remove(lowest);
      await edit(highest);
      expect(await verdict()).toEqual({ seal: seal!.seal, row: lowest, reason: 'the row was sealed but is missing: deleted' });
      await asOwner((tx) => tx`insert into audit_logs overriding system value select * from snapshot_logs where id = ${lowest}`);
      await edit(lowest);
      await remove(highest);
      expect(await verdict()).toEqual({ seal: seal!.seal, row: lowest, reason: 'the row differs from what was sealed: its hash does not match' });
    });

    it('names the seal of a row moved to another window', async () => {
      await asOwner((tx) => tx`update audit_logs set xact_id = (select from_xact from audit_seals where sequence = 3) where id = ${target.id}`);
      expect(await verdict()).toEqual({ seal: 2, row: target.id, reason: expect.stringMatching(/^the row was sealed in seal 2 but its xact_id \d+ now places it in seal 3's window$/) });
    });
  });

  describe('after a recorded retention', () => {
    const RETENTION_CLI = path.join(ROOT, 'dist/cli/audit-retention.js');
    const monthStart = (offset: number) => {
      const now = new Date();
      return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1)).toISOString();
    };
    let retained: TestDatabase;
    let retainedSql: postgres.Sql;
    const verifyRetained = () => run(VERIFY_CLI, ['--public-key', TEST_AUDIT_PUBLIC_KEY], { DATABASE_URL: retained.url });
    /** As `verdict` above: the CLI runs once, for the OK line that counts the rows a retention removed. */
    const retainedVerdict = () => verifyTrailAt(retained.url);

    beforeAll(async () => {
      retained = await createTestDatabase({ migrated: true });
      retainedSql = postgres(retained.url, { max: 1, onnotice: () => {} });
      // Two months ago: 20 rows backfilled by the owner before the trail was first sealed.
      await retainedSql`select audit_logs_create_partitions(${monthStart(-2)}::timestamptz, now())`;
      await retainedSql.begin(async (tx) => {
        // From just below a multiple of 16,384: the transaction's rows, one seal's, span two of the
        // runs verify reads row hashes in (seal-rows.ts), which must join up in id order.
        await tx`alter table audit_logs alter column id restart with 16380`;
        await tx`alter table audit_logs disable trigger audit_logs_stamp_server_values`;
        await tx`insert into audit_logs (occurred_at, action, outcome, user_id)
                 select ${monthStart(-2)}::timestamptz + g * interval '1 hour', 'update_item', 'success', 'alice' from generate_series(1, 20) g`;
        await tx`alter table audit_logs enable always trigger audit_logs_stamp_server_values`;
      });
      // And an item whose whole history lies in that month: once retention drops it, the trail holds
      // no version of the item, which is older than anything the trail still holds.
      await withBackstopOff(retainedSql, 'items', async (tx) => {
        await tx`alter table audit_logs disable trigger audit_logs_stamp_server_values`;
        const [item] = await tx<{ id: string }[]>`insert into items (owner_id, title) values ('alice', 'old') returning id::text`;
        await tx`insert into audit_logs (occurred_at, xact_id, user_id, user_role, action, resource_type, resource_id, owner_ids, outcome, details)
                 values (${monthStart(-2)}::timestamptz, pg_current_xact_id(), 'alice', 'USER', 'create_item', 'item', ${item!.id}, '{alice}', 'success',
                         ${tx.json({ after: { id: item!.id, ownerId: 'alice', title: 'old', description: null } })})`;
        await tx`alter table audit_logs enable always trigger audit_logs_stamp_server_values`;
      });
      const api = await startInProcess(retained.url);
      try {
        await traffic(api, 20);
        for (const end = deadline(90_000); Date.now() < end; ) {
          const [row] = await retainedSql<{ unsealed: number }[]>`
            select count(*)::int as unsealed from audit_logs a where not exists (select from audit_row_hashes h where h.id = a.id)`;
          if (row!.unsealed === 0) break;
          await pause();
        }
      } finally {
        await api.stop();
      }
    });
    afterAll(async () => {
      await retainedSql?.end();
      await retained?.drop();
    });

    /** Seals what is left to seal, as the sealer would (the API is stopped; its lease lapses within 2 s). */
    const sealRetained = async () => {
      const signingKey = createPrivateKey({ key: Buffer.from(TEST_AUDIT_SIGNING_KEY, 'base64'), format: 'der', type: 'pkcs8' });
      for (const end = deadline(90_000); Date.now() < end; ) {
        await sealOnce(retainedSql, { signingKey, holder: 'test', leaseMs: 60_000 });
        const [row] = await retainedSql<{ unsealed: number }[]>`
          select count(*)::int as unsealed from audit_logs a where not exists (select from audit_row_hashes h where h.id = a.id)`;
        if (row!.unsealed === 0) return;
        await pause();
      }
      throw new Error('rows still unsealed after 90 s');
    };

    it('verifies, counting the dropped month as removed once the next seal covers the signed record, and still catches a deletion it does not cover', async () => {
      expect(await retainedVerdict()).toMatchObject({ ok: true, retainedRows: 0 });
      const dropped = await run(RETENTION_CLI, ['--before', monthStart(-1).slice(0, 10)], { MIGRATION_DATABASE_URL: retained.url, AUDIT_SIGNING_KEY: TEST_AUDIT_SIGNING_KEY });
      expect(dropped).toMatchObject({ code: 0 });
      const [record] = await retainedSql<{ id: string }[]>`select id::text from audit_logs where action = 'audit_retention'`;
      // Until a seal covers it, the record is only the owner's word.
      expect(await retainedVerdict()).toEqual({ row: record!.id, reason: 'a retention record no seal covers yet: verify again once the next seal has covered it' });
      await sealRetained();
      // The old item's history is gone with its month, and it is not reported: only what is newer than
      // every removed row must have its versions.
      expect((await verifyRetained()).stdout).toMatch(/^OK: \d+ seals, \d+ sealed rows unchanged, 21 removed by recorded retention, 0 not sealed yet; 1 records as /);
      const [{ id: unseen }] = await withBackstopOff(retainedSql, 'items', (tx) => tx<{ id: string }[]>`insert into items (owner_id, title) values ('alice', 'unseen') returning id::text`);
      expect(await retainedVerdict()).toEqual({
        record: `item ${unseen}`,
        reason: 'the trail holds no change of this item, which was written after the trail began: changed where nothing recorded it, as with its audit backstop switched off',
      });
      await retainedSql`delete from items where id = ${unseen!}`;

      const [victim] = await retainedSql<{ id: string }[]>`select id::text from audit_logs where action = 'create_item'`;
      await retainedSql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`delete from audit_logs where id = ${victim!.id}`;
      });
      expect(await retainedVerdict()).toEqual({ seal: expect.any(Number), row: victim!.id, reason: 'the row was sealed but is missing: deleted' });
    });

    it('refuses a forged retention record, sealed or not: only the signing key can excuse missing rows', async () => {
      const [victim] = await retainedSql<{ id: string }[]>`select id::text from audit_logs where action = 'update_item' order by id desc limit 1`;
      // As the owner: one sealed row deleted with the triggers off, and a record that would excuse it.
      await retainedSql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`delete from audit_logs where id = ${victim!.id}`;
      });
      const partitions = [{ name: 'audit_logs_2001_01', from: '2001-01-01T00:00:00.000Z', to: '2001-02-01T00:00:00.000Z', rows: 999999999, firstId: '1', lastId: '999999999' }];
      const [forged] = await retainedSql<{ id: string }[]>`
        insert into audit_logs (action, outcome, details) values ('audit_retention', 'success', ${retainedSql.json({ before: '2001-02-01T00:00:00.000Z', databaseRole: 'owner', partitions })})
        returning id::text`;
      await sealRetained();
      expect(await retainedVerdict()).toEqual({
        row: forged!.id,
        reason: 'a retention record not signed with the trusted key: forged, or written before retentions were signed',
      });
    });
  });

  describe('two server processes', () => {
    it('keep one chain when the sealing one is killed: the other takes over', async () => {
      const replicas = await Promise.all([startApi(env()), startApi(env())]);
      const seals = (api: RunningApi) => logLines(api.proc.output.stdout).some((line) => line.msg === SEALER_LINE);
      const sealing = async (candidates: RunningApi[]) => {
        for (const end = deadline(10_000); Date.now() < end; ) {
          const holder = candidates.find(seals);
          if (holder) return holder;
          await pause();
        }
        throw new Error('no process took the sealer lease');
      };
      const first = replicas.indexOf(await sealing(replicas));
      expect(replicas.filter(seals)).toHaveLength(1);
      const [killed, other] = [replicas[first]!, replicas[1 - first]!];
      await traffic(killed, 10);
      await untilSealed();
      const [before] = await sql<{ seals: number }[]>`select count(*)::int as seals from audit_seals`;

      killed.proc.child.kill('SIGKILL');
      await killed.proc.exited;
      await traffic(other, 11);
      // Once the dead process's lease has lapsed: three of its 100 ms intervals, at least 2 s.
      expect(await sealing([other])).toBe(other);
      await untilSealed(before!.seals + 1, other);
      await stopApi(other);

      expect((await verify()).stdout).toMatch(/^OK: \d+ seals, \d+ sealed rows unchanged, 0 removed by recorded retention, 0 not sealed yet/);
    });
  });
});
