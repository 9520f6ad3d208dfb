import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, Page, chromium } from 'playwright-core';
import { PythonPeer, TcpPeer } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = join(__dirname, '..', '..', 'test-output');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe('the live console in Chromium', () => {
  let t: TestApp;
  let port: number;
  let userDataDir: string;
  let browser: BrowserContext;
  let page: Page;
  let client: PythonPeer | undefined;

  beforeAll(async () => {
    t = await startTestApp();
    port = await t.listen();
    userDataDir = mkdtempSync(join(tmpdir(), 'sockplane-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 720 } });
    page = browser.pages()[0] ?? (await browser.newPage());
    mkdirSync(OUTPUT, { recursive: true });
  });
  afterAll(async () => {
    client?.kill();
    await browser?.close();
    await t?.close();
    rmSync(userDataDir, { recursive: true, force: true });
  });

  it('opens a listener, shows client.py’s “Hello, server!” in text and hex, and sends the reply it receives', async () => {
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`http://127.0.0.1:${port}/console`);
    await page.getByRole('status').filter({ hasText: 'live' }).waitFor();

    await page.getByRole('button', { name: 'Open' }).click();
    const listenerButton = page.locator('#sockets li', { hasText: 'tcp-listener' });
    await listenerButton.waitFor();
    const listeners = await t.http.get('/v1/tcp/listeners').expect(200);
    const listenerPort = listeners.body.items[0].local.port as number;
    expect(await listenerButton.textContent()).toContain(`127.0.0.1:${listenerPort}`);

    client = new PythonPeer('tutorial/client.py', [listenerPort]);
    const connection = page.locator('#sockets button', { hasText: 'tcp-connection' });
    await connection.click();
    const incoming = page.locator('#traffic tbody tr.in').first();
    await incoming.waitFor();
    await expect(incoming.locator('td').nth(3).textContent()).resolves.toBe('Hello, server!');
    await expect(incoming.locator('td').nth(4).textContent()).resolves.toBe('48 65 6c 6c 6f 2c 20 73 65 72 76 65 72 21');
    await expect(incoming.locator('td').nth(1).textContent()).resolves.toBe('← peer');

    await page.getByLabel('Send').fill('Hello, client!');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await client.waitForOutput(/Received: Hello, client!/);
    await page.locator('#traffic tbody tr.out').waitFor();
    await page.screenshot({ path: join(OUTPUT, 'console.png') });
    expect(await client.exited).toBe(0);
    await page.locator('#traffic tbody tr.note', { hasText: 'peer-ended' }).waitFor();
    expect(errors).toEqual([]);
  });

  it('with API keys: refused until a key is typed in, then lists, attaches with a ticket and shows the bytes', async () => {
    const secret = 'console-secret-0123456789';
    const keyed = await startTestApp({ SOCKPLANE_API_KEYS: `alice:${secret}` });
    const keyedPort = await keyed.listen();
    const keyedPage = await browser.newPage();
    let peer: TcpPeer | undefined;
    try {
      await keyedPage.goto(`http://127.0.0.1:${keyedPort}/console/`);
      await keyedPage.getByRole('status').filter({ hasText: 'UNAUTHORIZED' }).waitFor();
      await keyedPage.getByLabel('API key').fill(secret);
      await keyedPage.getByLabel('API key').blur();
      await keyedPage.getByRole('status').filter({ hasText: 'live' }).waitFor();
      await keyedPage.getByRole('button', { name: 'Open' }).click();
      await keyedPage.locator('#sockets li', { hasText: 'tcp-listener' }).waitFor();
      const listeners = await keyed.http.get('/v1/tcp/listeners').set('authorization', `Bearer ${secret}`).expect(200);
      peer = await TcpPeer.connect(listeners.body.items[0].local.port);
      await keyedPage.locator('#sockets button', { hasText: 'tcp-connection' }).click();
      await keyedPage.locator('#send-data:enabled').waitFor();
      await peer.write('ping');
      await keyedPage.locator('#traffic tbody tr.in', { hasText: 'ping' }).waitFor();
    } finally {
      peer?.socket.destroy();
      await keyedPage.close();
      await keyed.close();
    }
  });
});
