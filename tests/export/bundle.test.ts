import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { BUNDLE_FILES, manifestText, signManifest, type BundleManifest } from '../../src/audit/integrity/bundle-format';
import { verifyBundle } from '../../src/audit/integrity/bundle-verify';
import { bundleReport } from '../../src/cli/audit-verify-bundle';
import { independentBundleProblems, independentRowHashes } from '../support/independent-verifier';
import { CREATE_ITEM, UPDATE_ITEM } from '../support/items';
import { ANCHOR_CLI, killAll, ROOT, run, VERIFY_CLI } from '../support/node-process';
import { admin, alice, startTestServer, TEST_AUDIT_PUBLIC_KEY, TEST_AUDIT_SIGNING_KEY, type TestServer } from '../support/test-server';

/**
 * Verifiable export bundles (docs/integrity.md, Export bundles): `npm run audit:export -- --bundle DIR` of a
 * window of a sealed trail, checked offline by `npm run audit:verify -- --bundle DIR` and by the
 * independent verifier; then each way of editing the bundle without the signing key fails, naming
 * the row or the file. Needs a real PostgreSQL (the CLIs connect to the server's database).
 */

jest.setTimeout(300_000);

const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;
const EXPORT_CLI = path.join(ROOT, 'dist/cli/audit-export.js');

describeOnPostgres('export bundles', () => {
  let server: TestServer;
  let temp: string;
  /** The bundle as exported; each case edits a copy. */
  let bundle: string;
  let window: { from: string; to: string };
  /** The window's rows as the database holds them, and their hashes. */
  let expected: { id: string; seal: number }[];
  let anchored: { sequence: number; hash: string };
  let copies = 0;

  /**
   * Waits until every row is sealed and at least `seals` seals exist, looking every 20 ms: the
   * sealer seals every 100 ms, and the setup waits for seven seals.
   */
  async function untilSealed(seals = 1): Promise<void> {
    let state: { unsealed: number; seals: number } | undefined;
    for (const end = Date.now() + 90_000; Date.now() < end; ) {
      [state] = await server.sql<{ unsealed: number; seals: number }[]>`
        select (select count(*)::int from audit_logs a where not exists (select from audit_row_hashes h where h.id = a.id)) as unsealed,
               (select count(*)::int from audit_seals) as seals`;
      if (state!.unsealed === 0 && state!.seals >= seals) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`not sealed after 90 s: ${JSON.stringify(state)}, expected ${seals} seals`);
  }

  const sealCount = async () => (await server.sql<{ n: number }[]>`select count(*)::int as n from audit_seals`)[0]!.n;

  /** Audited traffic: an item created and changed, an admin's listing, a refusal. */
  async function traffic(round: number): Promise<void> {
    const created = await server.graphql(CREATE_ITEM, { variables: { input: { title: `round ${round}` } }, as: alice });
    const id = created.body.data.createItem.id;
    await server.graphql(UPDATE_ITEM, { variables: { id, input: { description: `changed in round ${round}` } }, as: alice });
    // With a reason: its rows carry the three access-reason columns, encoded only on such rows.
    await server.graphql('{ items(first: 5) { nodes { id title } } }', { as: admin, headers: { 'access-reason': `support T-${round}` } });
    await server.graphql('{ auditLogs { nodes { id } } }', { as: alice });
  }

  /**
   * One transaction writing a row just before `at` and one at `at` (as the table's owner, who may
   * choose `occurred_at`): both in the same seal, on both sides of a window's edge.
   */
  async function straddle(at: string, note: string): Promise<void> {
    await server.sql.begin(async (tx) => {
      await tx`alter table audit_logs disable trigger audit_logs_stamp_server_values`;
      await tx`
        insert into audit_logs (occurred_at, xact_id, action, resource_type, outcome, details, operation_name)
        values (${at}::timestamptz - interval '1 millisecond', pg_current_xact_id(), 'update_item', 'item', 'success', ${JSON.stringify({ note, side: 'before' })}::text::jsonb, 'Straddle'),
               (${at}::timestamptz, pg_current_xact_id(), 'update_item', 'item', 'success', ${JSON.stringify({ note, side: 'at', n: 1.5e-7, s: 'ünï ✓ "q"' })}::text::jsonb, 'Straddle')`;
      await tx`alter table audit_logs enable always trigger audit_logs_stamp_server_values`;
    });
  }

  const now = async () =>
    (await server.sql<{ at: string }[]>`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at`)[0]!.at;

  const verifyCli = (dir: string, ...args: string[]) => run(VERIFY_CLI, ['--bundle', dir, ...args], {});
  /**
   * What `audit:verify --bundle DIR --public-key KEY` (no key: null) prints and exits with, checked in
   * this process (the CLI's own check and report) to keep the many cases fast; the CLI runs in a few.
   */
  async function check(dir: string, publicKey: string | null = TEST_AUDIT_PUBLIC_KEY): Promise<{ code: number; stdout: string }> {
    const key = publicKey === null ? undefined : createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
    const { code, text } = bundleReport(await verifyBundle(dir, { publicKey: key }));
    return { code, stdout: text };
  }
  const trusted = `trusted public key ${TEST_AUDIT_PUBLIC_KEY} (--public-key)\n`;

  /** A fresh copy of the bundle to tamper with. */
  async function copy(): Promise<string> {
    const dir = path.join(temp, `copy-${++copies}`);
    await cp(bundle, dir, { recursive: true });
    return dir;
  }
  const linesOf = async (dir: string, name: string) => (await readFile(path.join(dir, name), 'utf8')).split('\n').slice(0, -1);
  const writeLines = (dir: string, name: string, lines: string[]) => writeFile(path.join(dir, name), lines.map((line) => `${line}\n`).join(''));
  /** A row line in the middle of the bundle, with its 1-based line number. */
  async function middleRow(dir: string): Promise<{ line: number; text: string; id: string; seal: number }> {
    const lines = await linesOf(dir, BUNDLE_FILES.rows);
    const index = Math.floor(lines.length / 2);
    const { id, seal } = JSON.parse(lines[index]!);
    return { line: index + 1, text: lines[index]!, id, seal };
  }

  beforeAll(async () => {
    server = await startTestServer({ AUDIT_SEAL_INTERVAL_MS: '100' });
    temp = await mkdtemp(path.join(os.tmpdir(), 'bundle-test-'));
    /** Runs `write`, then waits until what it wrote is sealed, in at least one seal more than before. */
    const sealed = async (write: () => Promise<unknown>) => {
      const before = await sealCount();
      await write();
      await untilSealed(before + 1);
    };
    await sealed(() => traffic(0));
    const from = await now();
    await straddle(from, 'start');
    for (let round = 1; round <= 3; round++) await sealed(() => traffic(round));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const to = await now();
    // Sealed apart from what follows, so that the anchored head below holds no row of the window.
    await sealed(() => straddle(to, 'end'));
    await sealed(() => traffic(4));
    window = { from, to };
    expected = [
      ...(await server.sql<{ id: string; seal: number }[]>`
        select a.id::text as id, h.seal::int as seal from audit_logs a join audit_row_hashes h on h.id = a.id
        where a.occurred_at >= ${from}::timestamptz and a.occurred_at < ${to}::timestamptz order by h.seal, a.id`),
    ];
    // An anchor of the head, after the window's last seal: the bundle's seals run on to it.
    const anchors = path.join(temp, 'anchors.jsonl');
    expect(await run(ANCHOR_CLI, [], { DATABASE_URL: server.database.url, AUDIT_ANCHOR_FILE: anchors })).toMatchObject({ code: 0 });
    anchored = JSON.parse(await readFile(anchors, 'utf8'));
    await sealed(() => traffic(5));

    bundle = path.join(temp, 'bundle');
    const exported = await run(EXPORT_CLI, ['--from', from, '--to', to, '--bundle', bundle, '--anchors', anchors], {
      DATABASE_URL: server.database.url,
      AUDIT_SIGNING_KEY: TEST_AUDIT_SIGNING_KEY,
    });
    const [first, last] = [expected[0]!.seal, anchored.sequence];
    expect(exported).toMatchObject({
      code: 0,
      stdout: '',
      stderr: `exported ${expected.length} row(s) from ${from} to ${to} as a bundle in ${bundle} (seals ${first}–${last})\n`,
    });
  });
  afterAll(async () => {
    killAll();
    await server?.stop();
    if (temp) await rm(temp, { recursive: true, force: true });
  });

  describe('as exported', () => {
    it('holds the window sealed rows in their hashed form, the run of seals with their row hashes, the key, the anchors and a signed manifest', async () => {
      expect((await readdir(bundle)).sort()).toEqual(['anchors.jsonl', 'manifest.json', 'public-key.txt', 'rows.ndjson', 'seals.ndjson']);
      const rows = (await linesOf(bundle, BUNDLE_FILES.rows)).map((line) => JSON.parse(line));
      expect(rows.map(({ id, seal }) => ({ id, seal }))).toEqual(expected);
      // Rows with an access reason add its three columns; the others keep the first 17.
      expect(new Set(rows.map(({ row }) => row.length))).toEqual(new Set([17, 20]));
      // Each row's hash is what the database's row hashes to, and what its seal lists.
      const hashes = await independentRowHashes(server.sql);
      const seals = (await linesOf(bundle, BUNDLE_FILES.seals)).map((line) => JSON.parse(line));
      const listed = new Map(seals.flatMap((seal) => (seal.rows ?? []) as [string, string][]));
      for (const { id } of rows) expect(listed.get(id)).toBe(hashes.get(id));
      expect(rows.find((row) => row.row[12].side === 'at')!.row[12]).toEqual({ note: 'start', side: 'at', n: 1.5e-7, s: 'ünï ✓ "q"' });
      // The boundary seals also list rows outside the window, by id and hash only.
      const outside = [...listed.keys()].filter((id) => !rows.some((row) => row.id === id));
      expect(outside.length).toBeGreaterThanOrEqual(2);
      expect(seals[0].sequence).toBe(expected[0]!.seal);
      expect(seals.at(-1)).toMatchObject({ sequence: anchored.sequence, hash: anchored.hash });
      expect(seals.at(-1).rows).toBeUndefined();
      const manifest = JSON.parse(await readFile(path.join(bundle, BUNDLE_FILES.manifest), 'utf8')) as BundleManifest;
      expect(manifest).toMatchObject({
        format: 'audit-export-bundle/1',
        window: { from: window.from, to: window.to },
        rows: expected.length,
        unsealedRows: 0,
        seals: seals.length,
        firstSeal: seals[0].sequence,
        lastSeal: anchored.sequence,
        publicKey: TEST_AUDIT_PUBLIC_KEY,
      });
      expect(manifest.exported).toEqual([[expected[0]!.id, expected.at(-1)!.id]]);
      expect(await readFile(path.join(bundle, BUNDLE_FILES.publicKey), 'utf8')).toBe(`${TEST_AUDIT_PUBLIC_KEY}\n`);
    });

    it('is recorded in the trail before it is written, as export_audit_logs with format bundle', async () => {
      const [row, ...others] = await server.sql`
        select user_id, outcome, details from audit_logs where operation_name = 'audit:export' and details->>'from' = ${window.from}`;
      expect(others).toEqual([]);
      expect(row).toEqual({
        user_id: null,
        outcome: 'success',
        details: { from: window.from, to: window.to, format: 'bundle', rows: expected.length, unsealedRows: 0, seals: expect.any(Number), fields: ['npm run audit:export'], count: 1 },
      });
    });

    it('verifies offline with the CLI: OK with the counts, the key it trusted', async () => {
      const seals = (await linesOf(bundle, BUNDLE_FILES.seals)).map((line) => JSON.parse(line));
      const listed = seals.filter((seal) => seal.rows);
      const undisclosed = listed.reduce((sum, seal) => sum + seal.rows.length, 0) - expected.length;
      const ok =
        `OK: ${expected.length} rows unchanged and in their seals; seals ${seals[0].sequence}–${anchored.sequence} chained and signed ` +
        `(${listed.length} with their row hashes, which also list ${undisclosed} rows outside the window); 5 files match the signed manifest; ` +
        `window ${window.from} to ${window.to}, 0 rows of it not sealed yet when exported; 1 anchors hold, 0 outside the bundle's seals\n`;
      // Both at once: neither writes anything.
      const [withKey, withoutKey] = await Promise.all([verifyCli(bundle, '--public-key', TEST_AUDIT_PUBLIC_KEY), verifyCli(bundle)]);
      expect(withKey).toMatchObject({ code: 0, stdout: `${trusted}${ok}`, stderr: '' });
      // Without --public-key, it trusts the bundle's own key, and says so.
      expect(withoutKey).toMatchObject({
        code: 0,
        stdout:
          `trusted public key ${TEST_AUDIT_PUBLIC_KEY}, the bundle's own: pass the operator's key with --public-key, ` +
          `or a bundle re-signed with another key passes too\n${ok}`,
      });
    });

    it('verifies with the independent verifier', () => {
      expect(independentBundleProblems(bundle, TEST_AUDIT_PUBLIC_KEY)).toEqual([]);
    });

    it('fails against anchors of your own that the chain does not match', async () => {
      const file = path.join(temp, 'forged-anchor.jsonl');
      await writeFile(file, `${JSON.stringify({ sequence: anchored.sequence, hash: 'f'.repeat(64) })}\n`);
      expect(await verifyCli(bundle, '--public-key', TEST_AUDIT_PUBLIC_KEY, '--anchors', file)).toMatchObject({
        code: 1,
        stdout: `${trusted}FAILED: seals.ndjson line ${anchored.sequence - expected[0]!.seal + 1}, seal ${anchored.sequence}: its hash ${anchored.hash} differs from the anchored ${'f'.repeat(64)} (--anchors): the chain was rewritten\n`,
      });
    });
  });

  describe('tampered', () => {
    it('an edited row field fails, naming the row', async () => {
      const dir = await copy();
      const lines = await linesOf(dir, BUNDLE_FILES.rows);
      const { line, id, seal } = await middleRow(dir);
      const value = JSON.parse(lines[line - 1]!);
      value.row[3] = 'mallory';
      lines[line - 1] = JSON.stringify(value);
      await writeLines(dir, BUNDLE_FILES.rows, lines);
      expect(await verifyCli(dir, '--public-key', TEST_AUDIT_PUBLIC_KEY)).toMatchObject({
        code: 1,
        stdout: `${trusted}FAILED: rows.ndjson line ${line}, seal ${seal}, row ${id}: the row differs from what was sealed: its hash does not match\n`,
      });
      expect(independentBundleProblems(dir, TEST_AUDIT_PUBLIC_KEY)).toContain('rows.ndjson: SHA-256 or size');
    });

    it('a removed row line fails, naming the row', async () => {
      const dir = await copy();
      const lines = await linesOf(dir, BUNDLE_FILES.rows);
      const { line, id, seal } = await middleRow(dir);
      lines.splice(line - 1, 1);
      await writeLines(dir, BUNDLE_FILES.rows, lines);
      expect(await check(dir)).toMatchObject({
        code: 1,
        stdout: `${trusted}FAILED: rows.ndjson, seal ${seal}, row ${id}: the signed manifest exports this row, but rows.ndjson lacks it: removed\n`,
      });
    });

    it('a duplicated row line fails, naming the row', async () => {
      const dir = await copy();
      const lines = await linesOf(dir, BUNDLE_FILES.rows);
      const { line, id, seal, text } = await middleRow(dir);
      lines.splice(line, 0, text);
      await writeLines(dir, BUNDLE_FILES.rows, lines);
      expect(await check(dir)).toMatchObject({
        code: 1,
        stdout: `${trusted}FAILED: rows.ndjson line ${line + 1}, seal ${seal}, row ${id}: it appears twice: the line was repeated\n`,
      });
    });

    it('a forged row line fails, naming it: a new id, or a sealed row outside the window', async () => {
      const dir = await copy();
      const lines = await linesOf(dir, BUNDLE_FILES.rows);
      const last = JSON.parse(lines.at(-1)!);
      const forgedId = String(BigInt(last.id) + 1000n);
      const forged = { id: forgedId, seal: last.seal, row: [forgedId, ...last.row.slice(1)] };
      await writeLines(dir, BUNDLE_FILES.rows, [...lines, JSON.stringify(forged)]);
      expect(await check(dir)).toMatchObject({
        code: 1,
        stdout: `${trusted}FAILED: rows.ndjson line ${lines.length + 1}, seal ${last.seal}, row ${forgedId}: seal ${last.seal} lists no such row among its exported rows in seals.ndjson: the line was added (forged, or moved from another seal)\n`,
      });

      // A row the first seal lists but the bundle does not export (before the window), claimed at its place.
      const other = await copy();
      const firstSeal = JSON.parse((await linesOf(other, BUNDLE_FILES.seals))[0]!);
      const exported = new Set(lines.map((line) => JSON.parse(line).id));
      const [hiddenId] = (firstSeal.rows as [string, string][]).find(([id]) => !exported.has(id))!;
      const claim = { id: hiddenId, seal: firstSeal.sequence, row: [hiddenId, ...JSON.parse(lines[0]!).row.slice(1)] };
      const at = lines.findIndex((line) => BigInt(JSON.parse(line).id) > BigInt(hiddenId));
      lines.splice(at, 0, JSON.stringify(claim));
      await writeLines(other, BUNDLE_FILES.rows, lines);
      expect(await check(other)).toMatchObject({
        code: 1,
        stdout: `${trusted}FAILED: rows.ndjson line ${at + 1}, seal ${firstSeal.sequence}, row ${hiddenId}: the signed manifest does not export this row: the line was added\n`,
      });
      expect(independentBundleProblems(other, TEST_AUDIT_PUBLIC_KEY)).toContain('rows.ndjson: SHA-256 or size');
    });

    it('a row removed with a manifest made again fails: signed by another key, or re-signed bundle and key', async () => {
      const dir = await copy();
      const lines = await linesOf(dir, BUNDLE_FILES.rows);
      const { line } = await middleRow(dir);
      lines.splice(line - 1, 1);
      await writeLines(dir, BUNDLE_FILES.rows, lines);
      const manifest = JSON.parse(await readFile(path.join(dir, BUNDLE_FILES.manifest), 'utf8')) as BundleManifest;
      const removed = JSON.parse((await linesOf(bundle, BUNDLE_FILES.rows))[line - 1]!).id as string;
      const rowsText = await readFile(path.join(dir, BUNDLE_FILES.rows));
      const { signature: _signature, ...content } = manifest;
      const remade = {
        ...content,
        rows: manifest.rows - 1,
        // The runs around the removed row, as an exporter would have written them without it.
        exported: [[manifest.exported[0]![0], expected[line - 2]!.id], [expected[line]!.id, manifest.exported[0]![1]]] as [string, string][],
        files: { ...manifest.files, [BUNDLE_FILES.rows]: { sha256: createHash('sha256').update(rowsText).digest('hex'), bytes: rowsText.length } },
      };
      expect(removed).toBe(expected[line - 1]!.id);
      const otherKey = generateKeyPairSync('ed25519').privateKey;
      await writeFile(path.join(dir, BUNDLE_FILES.manifest), manifestText(signManifest(remade, otherKey)));
      expect(await check(dir)).toMatchObject({
        code: 1,
        stdout: `${trusted}FAILED: manifest.json: its signature is not valid for the trusted public key: the manifest was changed (or made) without the signing key\n`,
      });
      expect(independentBundleProblems(dir, TEST_AUDIT_PUBLIC_KEY)).toContain('manifest.json: signature');

      // Naming the other key as the bundle's: its own key then signs the manifest, but not the seals.
      const otherPublic = otherKey.export({ format: 'jwk' }).x!;
      await writeFile(path.join(dir, BUNDLE_FILES.publicKey), `${otherPublic}\n`);
      const keyFile = Buffer.from(`${otherPublic}\n`);
      const renamed = {
        ...remade,
        publicKey: otherPublic,
        files: { ...remade.files, [BUNDLE_FILES.publicKey]: { sha256: createHash('sha256').update(keyFile).digest('hex'), bytes: keyFile.length } },
      };
      await writeFile(path.join(dir, BUNDLE_FILES.manifest), manifestText(signManifest(renamed, otherKey)));
      expect(await check(dir)).toMatchObject({
        code: 1,
        stdout: `${trusted}FAILED: manifest.json: it names public key ${otherPublic}, not the trusted ${TEST_AUDIT_PUBLIC_KEY}\n`,
      });
      expect(await check(dir, null)).toMatchObject({
        code: 1,
        stdout: expect.stringMatching(new RegExp(`FAILED: seals.ndjson line 1, seal ${expected[0]!.seal}: it names public key ${TEST_AUDIT_PUBLIC_KEY}, not the trusted ${otherPublic}\n$`)),
      });
    });

    it('a changed byte in seals.ndjson fails, naming the file and seal', async () => {
      const dir = await copy();
      const lines = await linesOf(dir, BUNDLE_FILES.seals);
      const index = lines.findIndex((line) => JSON.parse(line).rows);
      const seal = JSON.parse(lines[index]!);
      // One hex digit of a listed row hash.
      const [, hash] = seal.rows[0];
      const at = lines[index]!.indexOf(hash) + 10;
      lines[index] = lines[index]!.slice(0, at) + (lines[index]![at] === '0' ? '1' : '0') + lines[index]!.slice(at + 1);
      await writeLines(dir, BUNDLE_FILES.seals, lines);
      expect(await check(dir)).toMatchObject({
        code: 1,
        stdout: `${trusted}FAILED: seals.ndjson line ${index + 1}, seal ${seal.sequence}: its rows hash does not match its listed row hashes: a row hash was changed\n`,
      });
      expect(independentBundleProblems(dir, TEST_AUDIT_PUBLIC_KEY)).toContain('seals.ndjson: SHA-256 or size');
    });

    it('a changed byte in manifest.json fails, naming it', async () => {
      const dir = await copy();
      const text = await readFile(path.join(dir, BUNDLE_FILES.manifest), 'utf8');
      const at = text.indexOf('"unsealedRows":0') + '"unsealedRows":'.length;
      await writeFile(path.join(dir, BUNDLE_FILES.manifest), `${text.slice(0, at)}1${text.slice(at + 1)}`);
      expect(await check(dir)).toMatchObject({
        code: 1,
        stdout: `${trusted}FAILED: manifest.json: its signature is not valid for the trusted public key: the manifest was changed (or made) without the signing key\n`,
      });
    });

    it('a file added or removed fails, naming it', async () => {
      const added = await copy();
      await writeFile(path.join(added, 'notes.txt'), 'nothing to see\n');
      const removed = await copy();
      await rm(path.join(removed, BUNDLE_FILES.anchors));
      const [withAdded, withRemoved] = await Promise.all([check(added), check(removed)]);
      expect(withAdded).toMatchObject({ code: 1, stdout: `${trusted}FAILED: notes.txt: the signed manifest does not list it: added\n` });
      expect(withRemoved).toMatchObject({ code: 1, stdout: `${trusted}FAILED: anchors.jsonl: the signed manifest lists it, but it is missing: removed\n` });
    });

    it('a changed byte in each other file fails with the CLI, naming the file', async () => {
      const files = [BUNDLE_FILES.rows, BUNDLE_FILES.publicKey, BUNDLE_FILES.anchors];
      const results = await Promise.all(
        files.map(async (name) => {
          const dir = await copy();
          const bytes = await readFile(path.join(dir, name));
          const at = Math.floor(bytes.length / 2);
          bytes[at] = bytes[at]! ^ 0x01;
          await writeFile(path.join(dir, name), bytes);
          return verifyCli(dir, '--public-key', TEST_AUDIT_PUBLIC_KEY);
        }),
      );
      for (const [index, name] of files.entries()) {
        expect(results[index]).toMatchObject({ code: 1, stdout: expect.stringMatching(new RegExp(`\nFAILED: ${name.replace('.', '\\.')}[ ,:]`)) });
      }
    });

    it('any single-byte change anywhere fails, naming the file changed (sampled bytes of every file)', async () => {
      const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: TEST_AUDIT_PUBLIC_KEY }, format: 'jwk' });
      const dir = await copy();
      for (const name of Object.values(BUNDLE_FILES)) {
        const original = await readFile(path.join(dir, name));
        const positions = new Set([0, original.length - 1, ...Array.from({ length: 30 }, (_, i) => Math.floor(((i + 0.5) * original.length) / 30))]);
        for (const at of positions) {
          for (const change of [0x01, 0x20]) {
            const bytes = Buffer.from(original);
            bytes[at] = bytes[at]! ^ change;
            await writeFile(path.join(dir, name), bytes);
            const result = await verifyBundle(dir, { publicKey: key });
            expect({ name, at, change, ok: result.ok, file: result.ok ? undefined : result.file }).toEqual({ name, at, change, ok: false, file: name });
          }
        }
        await writeFile(path.join(dir, name), original);
      }
      expect(await verifyBundle(dir, { publicKey: key })).toMatchObject({ ok: true });
    });
  });

  describe('refusals', () => {
    it('refuses a signing key other than the seals\', and a directory that is not empty, writing nothing', async () => {
      const other = generateKeyPairSync('ed25519');
      const otherKey = other.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
      const dir = path.join(temp, 'wrong-key');
      const env = { DATABASE_URL: server.database.url, AUDIT_SIGNING_KEY: otherKey };
      // Both at once: each is refused before it writes into its own directory.
      const [wrongKey, notEmpty] = await Promise.all([
        run(EXPORT_CLI, ['--from', window.from, '--to', window.to, '--bundle', dir], env),
        run(EXPORT_CLI, ['--from', window.from, '--to', window.to, '--bundle', bundle], { ...env, AUDIT_SIGNING_KEY: TEST_AUDIT_SIGNING_KEY }),
      ]);
      expect(wrongKey).toMatchObject({
        code: 1,
        stderr: `the signing key's public half ${other.publicKey.export({ format: 'jwk' }).x} is not the key the seals name (${TEST_AUDIT_PUBLIC_KEY}): its bundle would not verify\n`,
      });
      expect(await readdir(dir)).toEqual([]);
      expect(notEmpty).toMatchObject({
        code: 1,
        stderr: `${bundle} is not empty: a bundle is written into a new or empty directory\n`,
      });
    });
  });

  describe('a window not sealed yet', () => {
    it('leaves out the rows of the window not sealed yet, and says how many', async () => {
      // A transaction that has a transaction id and stays open holds the seal horizon back.
      const holder = postgres(server.database.url, { max: 1, onnotice: () => {} });
      let dir: string;
      let unsealed: number;
      const from = await now();
      try {
        await holder`begin`;
        await holder`select pg_current_xact_id()`;
        await traffic(6);
        [{ unsealed }] = await server.sql<{ unsealed: number }[]>`select count(*)::int as unsealed from audit_logs where occurred_at >= ${from}::timestamptz`;
        expect(unsealed).toBeGreaterThan(0);
        dir = path.join(temp, 'unsealed');
        expect(await run(EXPORT_CLI, ['--from', from, '--to', '2100-01-01', '--bundle', dir], { DATABASE_URL: server.database.url, AUDIT_SIGNING_KEY: TEST_AUDIT_SIGNING_KEY })).toMatchObject({
          code: 0,
          stderr: `exported 0 row(s) from ${from} to 2100-01-01T00:00:00.000Z as a bundle in ${dir} (no seals); ${unsealed} row(s) of the window not sealed yet were left out\n`,
        });
      } finally {
        await holder`rollback`;
        await holder.end();
      }
      expect(await verifyCli(dir, '--public-key', TEST_AUDIT_PUBLIC_KEY)).toMatchObject({
        code: 0,
        stdout:
          `${trusted}OK: 0 rows unchanged and in their seals; no seals; 4 files match the signed manifest; ` +
          `window ${from} to 2100-01-01T00:00:00.000Z, ${unsealed} rows of it not sealed yet when exported; 0 anchors hold, 0 outside the bundle's seals\n`,
      });
      expect(independentBundleProblems(dir, TEST_AUDIT_PUBLIC_KEY)).toEqual([]);
    });
  });
});
