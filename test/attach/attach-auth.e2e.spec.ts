import { WebSocket } from 'ws';
import { TcpPeer } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';
import { closeWs, inboxOf, openWs, refusalOf } from '../support/ws-client';

const ALICE = 'alice-secret-0123456789';
const BOB = 'bob-secret-0123456789';
const KEYS = `alice:${ALICE},bob:${BOB}`;
const bearer = (secret: string): Record<string, string> => ({ authorization: `Bearer ${secret}` });

describe('attach with API keys', () => {
  let t: TestApp;
  let port: number;
  let id: string;
  let listenerId: string;
  let peer: TcpPeer;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_API_KEYS: KEYS, SOCKPLANE_CORS_ORIGINS: 'https://tool.example' });
    port = await t.listen();
    const listener = await t.http.post('/v1/tcp/listeners').set(bearer(ALICE)).send({ port: 0 }).expect(201);
    listenerId = listener.body.id;
    peer = await TcpPeer.connect(listener.body.local.port);
    const accepted = await t.http.get(`/v1/tcp/listeners/${listenerId}/connections`).set(bearer(ALICE)).query({ waitMs: 5000 }).expect(200);
    id = accepted.body.items[0].id;
  });
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((ws) => closeWs(ws)));
  });
  afterAll(async () => {
    peer.socket.destroy();
    await t.close();
  });

  const path = (): string => `/v1/tcp/connections/${id}/attach`;

  async function ticket(secret: string, write: boolean): Promise<string> {
    const issued = await t.http.post(`/v1/tcp/connections/${id}/attach-tickets`).set(bearer(secret)).send({ write }).expect(201);
    expect(issued.body.path).toBe(`${path()}?ticket=${issued.body.ticket}`);
    return issued.body.ticket as string;
  }

  it('refuses an upgrade without a key, with a wrong key, or with a key that does not own the socket', async () => {
    const none = await refusalOf(port, path());
    expect([none.status, none.body.code, none.headers['www-authenticate']]).toEqual([401, 'UNAUTHORIZED', 'Bearer realm="sockplane"']);
    expect((await refusalOf(port, path(), { headers: bearer('wrong-secret-0123456789') })).body.code).toBe('UNAUTHORIZED');
    const foreign = await refusalOf(port, path(), { headers: bearer(BOB) });
    expect([foreign.status, foreign.body.code]).toEqual([404, 'SOCKET_NOT_FOUND']);
    await t.http.post(`/v1/tcp/connections/${id}/attach-tickets`).set(bearer(BOB)).send({ write: false }).expect(404);
  });

  it('attaches with the owner’s key, and refuses a page from a foreign origin', async () => {
    const ws = await openWs(port, path(), { headers: bearer(ALICE) });
    sockets.push(ws);
    const foreign = await refusalOf(port, path(), { headers: { ...bearer(ALICE), origin: 'https://evil.example' } });
    expect([foreign.status, foreign.body.code]).toEqual([403, 'CROSS_ORIGIN_DENIED']);
    const crossSite = await refusalOf(port, path(), { headers: { ...bearer(ALICE), origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.body.code).toBe('CROSS_ORIGIN_DENIED');
    sockets.push(await openWs(port, path(), { headers: { ...bearer(ALICE), origin: 'https://tool.example', 'sec-fetch-site': 'cross-site' } }));
    sockets.push(await openWs(port, path(), { headers: { ...bearer(ALICE), origin: `http://127.0.0.1:${port}` } }));
  });

  it('a ticket attaches once, for its socket; a read ticket cannot write', async () => {
    const once = await ticket(ALICE, true);
    const ws = await openWs(port, `${path()}?ticket=${once}&write=true`, { protocol: 'sockplane.channel.v1' });
    sockets.push(ws);
    await inboxOf(ws).until((messages) => messages.length > 0);
    expect(inboxOf(ws).notices()[0]).toMatchObject({ type: 'attached', write: true });
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('via ticket')]));
    expect((await peer.receive(10)).toString()).toBe('via ticket');

    const used = await refusalOf(port, `${path()}?ticket=${once}`);
    expect([used.status, used.body.code]).toEqual([401, 'TICKET_INVALID']);
    const readOnly = await ticket(ALICE, false);
    expect((await refusalOf(port, `${path()}?ticket=${readOnly}&write=true`)).body.code).toBe('TICKET_INVALID');
    expect((await refusalOf(port, `${path()}?ticket=made-up-ticket`)).body.code).toBe('TICKET_INVALID');
    const elsewhere = await ticket(ALICE, false);
    expect((await refusalOf(port, `/v1/tcp/connections/tc_000000000000000000/attach?ticket=${elsewhere}`)).body.code).toBe('TICKET_INVALID');
    // Tickets open attach routes only.
    const misuse = await ticket(ALICE, false);
    await t.http.get(`/v1/tcp/connections/${id}?ticket=${misuse}`).expect(401);
  });
});
