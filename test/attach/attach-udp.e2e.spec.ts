import { WebSocket } from 'ws';
import { UdpPeer } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';
import { closeWs, inboxOf, openWs, sendHeader } from '../support/ws-client';

/** The sender and payload of a received-datagram frame (the layout of the binary datagram reads). */
function parseFrame(frame: Buffer): { seq: number; port: number; address: string; payload: string } {
  const addressLength = frame[23];
  return {
    seq: frame.readUInt32BE(4),
    port: frame.readUInt16BE(20),
    address: frame.toString('latin1', 24, 24 + addressLength),
    payload: frame.subarray(24 + addressLength, 24 + addressLength + frame.readUInt32BE(16)).toString(),
  };
}

describe('GET /v1/udp/sockets/{id}/attach', () => {
  let t: TestApp;
  let port: number;
  const sockets: WebSocket[] = [];
  const peers: UdpPeer[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    port = await t.listen();
  });
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((ws) => closeWs(ws)));
    await Promise.all(peers.splice(0).map((peer) => peer.close()));
  });
  afterAll(() => t.close());

  it.each([
    ['udp4', '127.0.0.1'],
    ['udp6', '::1'],
  ])('carries datagrams both ways with their senders (%s)', async (type, host) => {
    const socket = await t.http.post('/v1/udp/sockets').send({ type, host, port: 0 }).expect(201);
    const peer = await UdpPeer.bind(host);
    peers.push(peer);
    await peer.send('early', socket.body.local.port, host);
    await t.http.get(`/v1/udp/sockets/${socket.body.id}/datagrams`).query({ waitMs: 5000 }).expect(200);

    const ws = await openWs(port, `/v1/udp/sockets/${socket.body.id}/attach?fromSeq=0&write=true&release=auto`, { protocol: 'sockplane.channel.v1' });
    sockets.push(ws);
    const inbox = inboxOf(ws);
    await peer.send('Hello, server!', socket.body.local.port, host);
    await inbox.until(() => inbox.channel(1).length === 2);
    expect(inbox.channel(1).map(parseFrame)).toEqual([
      { seq: 0, port: peer.port, address: host, payload: 'early' },
      { seq: 1, port: peer.port, address: host, payload: 'Hello, server!' },
    ]);
    expect(inbox.notices().map((n) => n.type)).toEqual(['attached', 'live']);

    ws.send(Buffer.concat([Buffer.from([0]), sendHeader({ host, port: peer.port }), Buffer.from('Hello, client!')]));
    const [reply] = await peer.receive(1);
    expect([reply.data.toString(), reply.port]).toEqual(['Hello, client!', socket.body.local.port]);

    const state = await t.http.get(`/v1/udp/sockets/${socket.body.id}`).expect(200);
    expect(state.body.buffer.heldDatagrams).toBe(0);
    await t.http.delete(`/v1/udp/sockets/${socket.body.id}`).expect(200);
    expect(await inbox.whenClosed()).toEqual({ code: 4100, reason: 'local' });
  });

  it('sends raw messages to the default peer', async () => {
    const peer = await UdpPeer.bind();
    peers.push(peer);
    const socket = await t.http.post('/v1/udp/sockets').send({ connectTo: { host: '127.0.0.1', port: peer.port } }).expect(201);
    const ws = await openWs(port, `/v1/udp/sockets/${socket.body.id}/attach?write=true`);
    sockets.push(ws);
    ws.send(Buffer.concat([sendHeader(null), Buffer.from('to the default peer')]));
    const [datagram] = await peer.receive(1);
    expect(datagram.data.toString()).toBe('to the default peer');
    await t.http.delete(`/v1/udp/sockets/${socket.body.id}`).expect(200);
  });
});
