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

  /** A server whose trail has a create, an update, an admin's read (with a reason) and change (break-glass), and a denied delete of one item, all sealed. */
  async function arrangeTrail(): Promise<void> {
    server = await startTestServer({ AUDIT_SEAL_INTERVAL_MS: '100' });
    const created = await server.graphql('mutation { createItem(input: { title: "watched" }) { id } }', { as: alice });
    itemId = created.body.data.createItem.id;
    await server.graphql('mutation($id: ID!) { updateItem(id: $id, input: { title: "renamed" }) { id } }', { as: alice, variables: { id: itemId } });
    await server.graphql('{ items(first: 10) { nodes { id title } } }', { as: admin, headers: { 'access-reason': 'support T-5' } });
    await server.graphql('mutation($id: ID!) { updateItem(id: $id, input: { title: "fixed" }) { id } }', {
      as: admin,
      variables: { id: itemId },
      headers: { 'access-reason': 'break-glass INC-99 outage' },
    });
    await server.graphql('mutation($id: ID!) { deleteItem(id: $id) { deletedItemId } }', { as: bob, variables: { id: itemId } });
    // The dashboard counts sealed rows: wait for the sealer (every 100 ms here) to cover them all.
    for (let tries = 0; tries < 4500; tries++) {
      const [row] = await server.sql`select count(*)::int as unsealed from audit_logs a left join audit_row_hashes h using (id) where h.id is null`;
      if (row!.unsealed === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** A chart's series as its legend names them, and its numbers as the table beneath it lists them (key → total). */
  async function chartOf(name: string) {
    const chart = `[data-chart="${name}"]`;
    await page.waitForSelector(`${chart} .uplot canvas`);
    const legend = await page.$$eval(`${chart} .u-legend .u-series .u-label`, (labels) => labels.map((label) => label.textContent));
    const rows = await page.$$eval(`${chart} details tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!)));
    const totals: Record<string, number> = {};
    for (const [, key, count] of rows) totals[key!] = (totals[key!] ?? 0) + Number(count);
    return { legend, totals };
  }

  /** Whether anything was drawn on the chart's canvas (uPlot draws bars, axes and grid there). */
  const drawnPixels = (name: string) =>
    page.$eval(`[data-chart="${name}"] .uplot canvas`, (element) => {
      // The test compiles without the DOM's types: the little of a canvas it reads.
      type Canvas = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
      const canvas = element as unknown as Canvas;
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let drawn = 0;
      for (let at = 3; at < data.length; at += 4) if (data[at]! > 0) drawn++;
      return drawn;
    });

  it('draws events per day by action and denied attempts with uPlot: axes, a legend, the numbers', async () => {
    const perDay = await chartOf('per-day');
    expect(perDay.legend).toEqual(expect.arrayContaining(['From', 'admin_view_item', 'create_item', 'update_item']));
    expect(perDay.totals).toMatchObject({ create_item: 1, update_item: 2 });
    expect(await drawnPixels('per-day')).toBeGreaterThan(1000);
    // Hovering a day shows each action's count in the legend.
    const box = (await page.$('[data-chart="per-day"] .u-over'))!;
    const { width, height } = (await box.boundingBox())!;
    await box.hover({ position: { x: width - 2, y: height / 2 } });
    const values = await page.$$eval('[data-chart="per-day"] .u-legend .u-series .u-value', (cells) => cells.map((cell) => cell.textContent));
    expect(values.slice(1).every((value) => /^\d+$/.test(value ?? ''))).toBe(true);
    expect((await chartOf('denied')).totals.denied).toBeGreaterThanOrEqual(1);
  });

  it("draws admins' access by stated reason, and lists break-glass accesses", async () => {
    const byReason = await chartOf('by-reason');
    expect(byReason.legend).toEqual(expect.arrayContaining(['support', 'break-glass']));
    expect(byReason.totals).toMatchObject({ support: 1, 'break-glass': 2 }); // the change and the read of the record it returned
    await page.waitForSelector('#break-glass tbody tr');
    const rows = await page.$$eval('#break-glass tbody tr', (trs) => trs.map((tr) => ({ flagged: tr.className, cells: [...tr.querySelectorAll('td')].map((td) => td.textContent) })));
    expect(rows).toEqual(
      expect.arrayContaining([{ flagged: 'break-glass', cells: [expect.any(String), 'root', 'update_item', expect.any(String), 'INC-99 outage'] }]),
    );
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
      for (const vendored of ['uplot/uPlot.esm.js', 'uplot/uPlot.min.css']) expect((await fetch(`http://127.0.0.1:${port}/dashboard/vendor/${vendored}`)).status).toBe(200);
    } finally {
      listening.close();
    }
  });
});
