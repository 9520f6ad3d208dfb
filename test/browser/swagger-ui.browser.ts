import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, Locator, Page, chromium } from 'playwright-core';
import { TcpPeer } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';

/** Debian's Chromium (`.ci/run` installs it); Playwright downloads no browser of its own. */
const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = join(__dirname, '..', '..', 'test-output');

/** Headless, and quiet: no update checks, sync or first-run pages reaching for the network. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The block of one operation in Swagger UI: its id joins the tag (spaces as `_`) and the operationId. */
function operation(page: Page, tag: string, operationId: string): Locator {
  return page.locator(`#operations-${tag.replaceAll(' ', '_')}-${operationId}`);
}

/** Opens an operation (Try it out is on from the start), fills parameters, executes, and returns the JSON answer shown. */
async function execute(block: Locator, params: Record<string, string> = {}, body?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  if (!(await block.locator('.execute').isVisible())) await block.locator('.opblock-summary').click();
  for (const [name, value] of Object.entries(params)) await block.locator(`tr[data-param-name="${name}"] input`).fill(value);
  if (body !== undefined) await block.locator('textarea.body-param__text').fill(body);
  await block.locator('.execute').click();
  const answer = block.locator('.live-responses-table .response');
  const text = await answer.locator('.response-col_description .microlight').first().textContent({ timeout: 20_000 });
  const status = Number(await answer.locator('.response-col_status').first().textContent());
  return { status, body: JSON.parse(text ?? '') as Record<string, unknown> };
}

describe('Swagger UI in Chromium', () => {
  let t: TestApp;
  let port: number;
  let userDataDir: string;
  let browser: BrowserContext;
  let page: Page;
  const peers: TcpPeer[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    port = await t.listen();
    userDataDir = mkdtempSync(join(tmpdir(), 'sockplane-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    mkdirSync(OUTPUT, { recursive: true });
  });

  afterAll(async () => {
    for (const peer of peers) peer.socket.destroy();
    await browser?.close();
    await t?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('/docs › a newcomer opens an echo listener, sees a real peer accepted, and reads an echo, all by Try it out', async () => {
    await page.goto(`http://127.0.0.1:${port}/docs`);
    await expect(page.locator('.opblock-tag').allTextContents()).resolves.toEqual([
      expect.stringContaining('TCP listeners'),
      expect.stringContaining('TCP connections'),
      expect.stringContaining('UDP sockets'),
      expect.stringContaining('TLS'),
      expect.stringContaining('Proxies'),
      expect.stringContaining('Faults'),
      expect.stringContaining('Reply rules'),
      expect.stringContaining('Scenario'),
      expect.stringContaining('Events'),
      expect.stringContaining('Limits'),
      expect.stringContaining('Operations'),
      expect.stringContaining('Cluster'),
    ]);
    await expect(page.locator('.information-container').textContent()).resolves.toContain('The tutorial\'s echo server, played by sockplane');
    await page.screenshot({ path: join(OUTPUT, 'swagger-ui-top.png') });

    // 1. The listener, with the request body exactly as the page offers it.
    const created = await execute(operation(page, 'TCP listeners', 'createListener'));
    expect(created).toMatchObject({ status: 201, body: { state: 'listening', options: { mode: 'echo' }, labels: { demo: 'tutorial' } } });
    const listenerId = created.body.id as string;
    const listenerPort = (created.body.local as { port: number }).port;
    await expect(operation(page, 'TCP listeners', 'createListener').textContent()).resolves.toContain('Request duration');

    // 2. A real TCP peer, from outside the page, is echoed.
    const peer = await TcpPeer.connect(listenerPort);
    peers.push(peer);
    await peer.write('Hello from a Node peer');
    expect((await peer.receive(22)).toString()).toBe('Hello from a Node peer');

    // 3. The page waits for it to be accepted (long-poll), then pushes bytes to the peer on that connection.
    // Its {id} starts empty (no made-up id that would answer 404), with the answer that gives one beside it.
    const acceptedBlock = operation(page, 'TCP listeners', 'listAcceptedConnections');
    await acceptedBlock.locator('.opblock-summary').click();
    const idRow = acceptedBlock.locator('tr[data-param-name="id"]');
    await expect(idRow.locator('input').inputValue()).resolves.toBe('');
    await expect(idRow.locator('input').getAttribute('placeholder')).resolves.toBe('id');
    await expect(idRow.textContent()).resolves.toContain('TCP listener id: the id in the answer of POST /v1/tcp/listeners');
    const accepted = await execute(acceptedBlock, { id: listenerId });
    expect(accepted).toMatchObject({ status: 200, body: { lastAcceptIndex: 1, items: [{ direction: 'inbound', remote: { port: peer.socket.localPort } }] } });
    const inboundId = (accepted.body.items as { id: string }[])[0].id;
    const pushed = await execute(operation(page, 'TCP connections', 'sendData'), { id: inboundId });
    expect(pushed).toMatchObject({ status: 200, body: { bytesSent: 14 } });
    expect((await peer.receive(22 + 14)).subarray(22).toString()).toBe('Hello, server!');

    // 4. The page plays the tutorial's client against the echo listener: connect, send, read the echo.
    const connected = await execute(operation(page, 'TCP connections', 'createConnection'), {}, JSON.stringify({ host: '127.0.0.1', port: listenerPort }, null, 2));
    expect(connected).toMatchObject({ status: 201, body: { direction: 'outbound', state: 'open' } });
    const clientId = connected.body.id as string;
    // A message of its own, so the answer cannot be mistaken for an example on the page.
    const message = 'Echoed through Swagger UI';
    const sent = await execute(operation(page, 'TCP connections', 'sendData'), { id: clientId }, JSON.stringify({ data: message, encoding: 'utf8' }, null, 2));
    expect(sent).toMatchObject({ status: 200, body: { bytesSent: message.length } });
    const readBlock = operation(page, 'TCP connections', 'readBuffer');
    const read = await execute(readBlock, { id: clientId, minBytes: String(message.length) });
    expect(read).toMatchObject({ status: 200, body: { data: message, byteCount: message.length, nextOffset: message.length } });

    // The page as the newcomer sees it: the read's request and its answer with the echo in `data`.
    await readBlock.locator('.opblock-summary').evaluate((summary) => summary.scrollIntoView());
    await readBlock.locator('.responses-wrapper .request-url').evaluate((url) => url.scrollIntoView());
    await page.screenshot({ path: join(OUTPUT, 'swagger-ui-echo.png') });
  });
});
