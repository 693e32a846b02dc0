import { existsSync } from 'node:fs';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { readFile } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from '../support/node-process';
import { admin, alice, bob, startTestServer, type TestServer } from '../support/test-server';

/*
 * /dashboard in a real browser (Debian's headless Chromium through playwright-core): every panel
 * drawn from the API with an admin's token, the live feed receiving a change made meanwhile, and an
 * export downloaded. `.ci/run` installs Chromium; without it (a bare machine), or on the embedded
 * database, the browser part is skipped.
 */
const CHROMIUM = '/usr/bin/chromium';
// And on PostgreSQL: the page draws sealed rows, which the embedded database's test servers seal hourly.
const describeWithBrowser = existsSync(CHROMIUM) && process.env.DATABASE_URL ? describe : describe.skip;
jest.setTimeout(60_000);

describeWithBrowser('the dashboard in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let itemId: string;
  const problems: string[] = [];

  beforeAll(async () => {
    // Chromium starts while the server starts and the trail is written; kept for afterAll even when the rest fails.
    const launching = chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }).then((launched) => (browser = launched));
    try {
      await arrangeTrail();
    } finally {
      await launching;
    }
    page = await browser.newPage({ acceptDownloads: true });
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${server.url}/dashboard`);
    await page.fill('#token', await server.token(admin));
    await page.click('#token-form button');
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** A server whose trail has a create, an update, an admin's read and a denied delete of one item, all sealed. */
  async function arrangeTrail(): Promise<void> {
    server = await startTestServer({ AUDIT_SEAL_INTERVAL_MS: '100' });
    const created = await server.graphql('mutation { createItem(input: { title: "watched" }) { id } }', { as: alice });
    itemId = created.body.data.createItem.id;
    await server.graphql('mutation($id: ID!) { updateItem(id: $id, input: { title: "renamed" }) { id } }', { as: alice, variables: { id: itemId } });
    await server.graphql('{ items(first: 10) { nodes { id title } } }', { as: admin });
    await server.graphql('mutation($id: ID!) { deleteItem(id: $id) { deletedItemId } }', { as: bob, variables: { id: itemId } });
    // The dashboard counts sealed rows: wait for the sealer (every 100 ms here) to cover them all.
    for (let tries = 0; tries < 4500; tries++) {
      const [row] = await server.sql`select count(*)::int as unsealed from audit_logs a left join audit_row_hashes h using (id) where h.id is null`;
      if (row!.unsealed === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('draws events per day by action, and denied attempts', async () => {
    await page.waitForSelector('[data-chart="per-day"] rect');
    const actions = await page.$$eval('[data-chart="per-day"] rect', (rects) => [...new Set(rects.map((rect) => (rect as unknown as { dataset: Record<string, string> }).dataset.key))].sort());
    expect(actions).toEqual(expect.arrayContaining(['admin_view_item', 'create_item', 'update_item']));
    await page.waitForSelector('[data-chart="denied"] rect');
    const denied = await page.$$eval('[data-chart="denied"] rect', (rects) => rects.reduce((sum, rect) => sum + Number((rect as unknown as { dataset: Record<string, string> }).dataset.count), 0));
    expect(denied).toBeGreaterThanOrEqual(1);
  });

  it('lists the admins who read others\' data', async () => {
    await page.waitForSelector('#top-admins tbody tr', { timeout: 10_000 }).catch(async (error) => {
      throw new Error(`${error.message}; the panel shows: ${await page.textContent('#top-admins')}`);
    });
    expect(await page.$$eval('#top-admins tbody tr', (rows) => rows.map((row) => row.textContent))).toEqual([expect.stringContaining('root')]);
  });

  it('answers who accessed an item', async () => {
    await page.fill('#item-id', itemId);
    await page.click('#item-form button');
    await page.waitForSelector('#item tbody tr');
    const rows = await page.$$eval('#item tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    const who = rows.map(([, user, action, outcome]) => `${user} ${action} ${outcome}`);
    expect(who).toEqual(expect.arrayContaining(['alice create_item SUCCESS', 'alice update_item SUCCESS', 'root admin_view_item SUCCESS', 'bob delete_item DENIED']));
  });

  it('shows a change made while it is open in the live feed, and not the history before it', async () => {
    expect(await page.$$eval('#feed tbody tr', (rows) => rows.length)).toBe(0);
    const created = await server.graphql('mutation { createItem(input: { title: "live" }) { id } }', { as: alice });
    await page.waitForSelector(`#feed tbody tr:has-text("${created.body.data.createItem.id}")`, { timeout: 20_000 });
    const actions = await page.$$eval('#feed tbody tr td:nth-child(3)', (cells) => cells.map((cell) => cell.textContent));
    expect(actions).not.toContain('view_audit_logs');
  });

  it('downloads an export of the trail', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-form button')]);
    expect(download.suggestedFilename()).toMatch(/^audit-logs_.*\.ndjson$/);
    const lines = (await readFile((await download.path())!, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((line) => line.action)).toEqual(expect.arrayContaining(['create_item', 'update_item']));
    await page.waitForSelector('#status:has-text("Exported")');
  });

  it('ran without errors in the page (scripts, the content security policy)', () => {
    expect(problems).toEqual([]);
  });
});

describe('the dashboard as the build serves it', () => {
  it('sends the page\'s browser module as written, not compiled to CommonJS', async () => {
    // What `npm start` runs: the compiled route, from dist/.
    const { dashboardRoutes } = require(path.join(ROOT, 'dist/http/dashboard.js')) as typeof import('../../src/http/dashboard');
    const app = express().use(dashboardRoutes());
    const listening = app.listen(0, '127.0.0.1');
    await once(listening, 'listening');
    try {
      const { port } = listening.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/dashboard/dashboard.js`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^(application|text)\/javascript/);
      const text = await response.text();
      expect(text).toContain("import { createClient } from '/dashboard/vendor/graphql-ws/client.js';");
      expect(text).not.toContain('require(');
      expect((await fetch(`http://127.0.0.1:${port}/dashboard/vendor/graphql-ws/client.js`)).status).toBe(200);
    } finally {
      listening.close();
    }
  });
});
