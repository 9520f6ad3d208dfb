import { once } from 'node:events';
import { AddressInfo, Server, Socket, connect, createServer } from 'node:net';
import { AccessPolicy } from './destination';
import { SocketError } from './socket-error';
import { ConnectOutcome, SocketEvent } from './socket-events';
import { RegistrySettings, SocketRegistry } from './socket-registry';
import { TcpConnection } from './tcp-connection';

const SETTINGS: RegistrySettings = {
  maxBufferedBytes: 1024 * 1024,
  maxPendingWriteBytes: 1024 * 1024,
  closeLingerMs: 200,
  closedRetentionMs: 60_000,
  maxSockets: 100,
  maxSocketsPerKey: 0,
  maxTotalBufferedBytes: 64 * 1024 * 1024,
  udpMaxDatagrams: 100,
  udpMaxBufferedBytes: 1024 * 1024,
};

const ALLOW_ALL: AccessPolicy = { judgeDestination: () => ({ allowed: true }), judgeBind: () => ({ allowed: true }) };
const NO_DNS = (): Promise<string[]> => Promise.reject(Object.assign(new Error('no DNS in this test'), { code: 'ENOTFOUND' }));

const LISTENER = { host: '127.0.0.1', port: 0, ipv6Only: false, backlog: 511, maxConnections: 0, mode: 'buffer', noDelay: true, keepAlive: false, keepAliveInitialDelayMs: 0, idleTimeoutMs: 0, tls: null, labels: {}, owner: null } as const;
const CONNECT = { host: '127.0.0.1', family: 0, timeoutMs: 5000, mode: 'buffer', noDelay: true, keepAlive: false, keepAliveInitialDelayMs: 0, idleTimeoutMs: 0, tls: null, labels: {}, owner: null } as const;

const refusal = (promise: Promise<unknown>): Promise<SocketError> => promise.then(() => Promise.reject(new Error('expected a refusal')), (err: SocketError) => err);

describe('SocketRegistry', () => {
  let registry: SocketRegistry;
  const servers: Server[] = [];
  const peers: Socket[] = [];

  function start(settings: Partial<RegistrySettings> = {}): SocketRegistry {
    registry = new SocketRegistry({ ...SETTINGS, ...settings }, ALLOW_ALL, NO_DNS);
    return registry;
  }

  afterEach(async () => {
    peers.splice(0).forEach((peer) => peer.destroy());
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
    await registry.closeAll();
  });

  /** A peer server that answers every FIN with its own. */
  async function peerServer(): Promise<number> {
    const server = createServer((socket) => {
      peers.push(socket);
      socket.resume();
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  }

  async function dial(port: number): Promise<Socket> {
    const socket = connect({ port, host: '127.0.0.1' });
    peers.push(socket);
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    return socket;
  }

  it('gives ids by kind that carry the creation order and never repeat', async () => {
    start();
    const listener = await registry.createListener(LISTENER);
    const connection = await registry.connect({ ...CONNECT, port: listener.local!.port });
    const udp = await registry.createUdpSocket({ ...LISTENER, type: 'udp4', reuseAddr: false, broadcast: false, ttl: 64, recvBufferSize: null, sendBufferSize: null, multicast: null, connectTo: null });
    const [accepted] = await registry.waitForAccepted(listener.id, 0, 1, 5000);
    // The accepted side and the outbound side take the next two numbers, whichever is first.
    expect([listener.id, connection.id, accepted.id, udp.id]).toEqual([
      expect.stringMatching(/^tl_000001[0-9a-f]{10}$/),
      expect.stringMatching(/^tc_00000[23][0-9a-f]{10}$/),
      expect.stringMatching(/^tc_00000[23][0-9a-f]{10}$/),
      expect.stringMatching(/^us_000004[0-9a-f]{10}$/),
    ]);
    expect(new Set([listener.seq, connection.seq, accepted.seq, udp.seq]).size).toBe(4);
  });

  it('adopts what a listener accepts, and lists connections by listener and direction', async () => {
    start();
    const listener = await registry.createListener({ ...LISTENER, labels: { role: 'server' } });
    const outbound = await registry.connect({ ...CONNECT, port: listener.local!.port, labels: { role: 'client' } });
    const [inbound] = await registry.waitForAccepted(listener.id, 0, 10, 5000);
    expect(inbound).toMatchObject({ direction: 'inbound', listenerId: listener.id, acceptIndex: 1, labels: { role: 'server' } });
    expect(listener.active).toBe(1);
    expect(registry.listConnections({ direction: 'inbound' }, 10).items).toEqual([inbound]);
    expect(registry.listConnections({ listenerId: listener.id }, 10).items).toEqual([inbound]);
    expect(registry.listConnections({ labels: { role: 'client' } }, 10).items).toEqual([outbound]);
    expect(registry.listListeners({ state: 'closed' }, 10).items).toEqual([]);
    expect(() => registry.getConnection(inbound.id, 'someone-else')).toThrow(expect.objectContaining({ code: 'SOCKET_NOT_FOUND' }));
    expect(() => registry.getListener(inbound.id)).toThrow(expect.objectContaining({ code: 'SOCKET_NOT_FOUND', message: `no TCP listener with id ${inbound.id}` }));
    await registry.closeConnection(inbound.id, 'reset');
    expect(listener.active).toBe(0);
  });

  it('closes before it forgets: the closed event finds the connection still held, the next get does not', async () => {
    start();
    const port = await peerServer();
    const connection = await registry.connect({ ...CONNECT, port });
    const heldAtClose: boolean[] = [];
    registry.events.subscribe((event: SocketEvent) => {
      if (event.type === 'connection.closed') heldAtClose.push(registry.find(event.resourceId) === connection);
    });
    await registry.closeConnection(connection.id, 'graceful');
    expect(heldAtClose).toEqual([true]);
    expect(registry.find(connection.id)).toBeUndefined();
    expect(registry.size).toBe(0);
  });

  it('closes a UDP socket before it forgets it too, and reports its final counters', async () => {
    start();
    const socket = await registry.createUdpSocket({ ...LISTENER, type: 'udp4', reuseAddr: false, broadcast: false, ttl: 64, recvBufferSize: null, sendBufferSize: null, multicast: null, connectTo: null });
    await socket.send(Buffer.from('hi'), { host: '127.0.0.1', port: socket.local!.port });
    const closes: unknown[] = [];
    registry.events.subscribe((event) => {
      if (event.type === 'udp.closed') closes.push({ held: registry.find(event.resourceId) === socket, ...event.data });
    });
    await registry.closeUdpSocket(socket.id);
    expect(closes).toEqual([{ held: true, reason: 'local', errno: null, bytesIn: expect.any(Number), bytesOut: 2, datagramsIn: expect.any(Number), datagramsOut: 1 }]);
    expect(registry.find(socket.id)).toBeUndefined();
  });

  it('holds no more than maxSockets: creates are refused and arriving connections dropped', async () => {
    start({ maxSockets: 2 });
    const listener = await registry.createListener(LISTENER);
    const dropped: SocketEvent[] = [];
    registry.events.subscribe((event) => event.type === 'listener.dropped' && dropped.push(event));
    await dial(listener.local!.port);
    await listener.waitForAcceptAfter(0, 5000);
    // The listener and the first accepted connection are the two: the next arrival is turned away.
    const extra = connect({ port: listener.local!.port, host: '127.0.0.1' });
    peers.push(extra);
    // `once` would reject at the reset's error: wait for the close itself.
    await new Promise((resolve) => extra.on('error', () => undefined).once('close', resolve));
    expect(dropped).toEqual([expect.objectContaining({ resourceId: listener.id, data: { reason: 'quota', remoteAddress: '127.0.0.1', remotePort: expect.any(Number) } })]);
    expect(listener.dropped).toBe(1);
    expect(await refusal(registry.connect({ ...CONNECT, port: listener.local!.port }))).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { limit: 'maxSockets', max: 2 } });
    expect(registry.usage()).toMatchObject({ sockets: 2, ownSockets: 2 });
  });

  it('counts sockets per owner against maxSocketsPerKey', async () => {
    start({ maxSocketsPerKey: 1 });
    await registry.createListener({ ...LISTENER, owner: 'a' });
    expect(await refusal(registry.createListener({ ...LISTENER, owner: 'a' }))).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { limit: 'maxSocketsPerKey' } });
    await registry.createListener({ ...LISTENER, owner: 'b' });
    expect([registry.usage('a').ownSockets, registry.usage('b').ownSockets, registry.usage().sockets]).toEqual([1, 1, 2]);
  });

  it('signals every connect attempt with its outcome', async () => {
    start();
    const outcomes: ConnectOutcome[] = [];
    registry.events.subscribeConnectAttempts((outcome) => outcomes.push(outcome));
    const port = await peerServer();
    const connection = await registry.connect({ ...CONNECT, port });
    await registry.closeConnection(connection.id, 'reset');
    peers.splice(0).forEach((peer) => peer.destroy());
    await new Promise((resolve) => servers.pop()!.close(resolve));
    await refusal(registry.connect({ ...CONNECT, port }));
    expect(outcomes).toEqual(['connected', 'CONNECTION_REFUSED']);
  });

  it('keeps a connection its peer closed readable, and forgets it when told to close', async () => {
    start();
    const listener = await registry.createListener(LISTENER);
    const peer = await dial(listener.local!.port);
    const [inbound] = await registry.waitForAccepted(listener.id, 0, 1, 5000);
    peer.end('bye');
    expect(await inbound.read({ maxBytes: 100, minBytes: 100, waitMs: 5000 })).toMatchObject({ eof: true });
    // Closed without the registry: the peer ended first, so it names the close.
    await inbound.close('graceful');
    expect(registry.getConnection(inbound.id)).toBe(inbound);
    expect(inbound.closed?.reason).toBe('peer-end');
    await registry.closeConnection(inbound.id, 'graceful');
    expect(registry.find(inbound.id)).toBeUndefined();
  });

  it('closes everything on shutdown, forgets it all and refuses anything new', async () => {
    start();
    const listener = await registry.createListener(LISTENER);
    const outbound = await registry.connect({ ...CONNECT, port: listener.local!.port });
    const [inbound] = await registry.waitForAccepted(listener.id, 0, 1, 5000);
    await registry.closeAll();
    expect([listener.state, outbound.state, inbound.state, registry.size, registry.isShuttingDown]).toEqual(['closed', 'closed', 'closed', 0, true]);
    expect(registry.usage()).toEqual({ sockets: 0, ownSockets: 0, bufferedBytes: 0, datagramBytes: 0 });
    expect(await refusal(registry.createListener(LISTENER))).toMatchObject({ code: 'SHUTTING_DOWN' });
    expect((inbound as TcpConnection).closed?.reason).toMatch(/^(local|peer-end)$/);
  });
});
