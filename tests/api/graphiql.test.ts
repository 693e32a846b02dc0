import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/test-server';

/*
 * /graphiql in a real browser cut off from everything but the server (as on an air-gapped
 * network, where Apollo Sandbox cannot load from its CDN): the explorer, its packages and its
 * styles all come from this server, it loads the schema and runs a query, and its policy blocks
 * nothing it needs. Skipped without Chromium (`.ci/run` installs it).
 */
const CHROMIUM = '/usr/bin/chromium';
const describeWithBrowser = existsSync(CHROMIUM) ? describe : describe.skip;
jest.setTimeout(60_000);

describeWithBrowser('GraphiQL, served by the server for offline use', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const outside: string[] = [];

  beforeAll(async () => {
    // Chromium starts while the server does; each is kept for afterAll even when the other fails.
    const [started, launched] = await Promise.allSettled([startTestServer(), chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })]);
    if (started.status === 'fulfilled') server = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    for (const result of [started, launched]) if (result.status === 'rejected') throw result.reason;
    page = await browser.newPage();
    const origin = new URL(server.url).origin;
    // The air gap: any request to another origin is refused, and noted.
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith('data:')) return route.continue();
      outside.push(url);
      return route.abort();
    });
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${server.url}/graphiql`);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('loads the schema and runs the example query against /graphql, asking for nothing outside the server', async () => {
    await page.waitForSelector('.graphiql-container');
    // It opens with the server's example operation.
    await page.waitForSelector('.graphiql-query-editor >> text=query MyItems');
    // The schema arrived (introspection is open in development): the docs name the root type.
    await page.click('[aria-label="Show Documentation Explorer"]');
    await page.waitForSelector('.graphiql-doc-explorer >> text=Query');
    await page.click('.graphiql-execute-button');
    // No token in the headers yet: the API answers that `me` needs one.
    await page.waitForFunction(() => (globalThis as any).document.querySelector('.graphiql-response')?.textContent?.includes('UNAUTHENTICATED'));
    expect(outside).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('is served under a policy that allows only this origin', async () => {
    const response = await fetch(`${server.url}/graphiql/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'");
  });
});
