import { once } from 'node:events';
import { Socket, connect } from 'node:net';
import { SocketError } from './socket-error';
import { SocketEvent, SocketEventBus } from './socket-events';
import { TcpListener, TcpListenerOptions } from './tcp-listener';

const OPTIONS: TcpListenerOptions = {
  host: '127.0.0.1',
  port: 0,
  ipv6Only: false,
  backlog: 511,
  maxConnections: 0,
  mode: 'buffer',
  noDelay: true,
  keepAlive: false,
  keepAliveInitialDelayMs: 0,
  idleTimeoutMs: 0,
  tls: null,
};

describe('TcpListener', () => {
  const listeners: TcpListener[] = [];
  const sockets: Socket[] = [];
  afterEach(() => {
    sockets.splice(0).forEach((socket) => socket.destroy());
    listeners.splice(0).forEach((listener) => listener.close());
  });

  async function listen(options: Partial<TcpListenerOptions> = {}, onAccept: (listener: TcpListener, socket: Socket, index: number) => void = (_l, socket) => sockets.push(socket)) {
    const events: SocketEvent[] = [];
    const bus = new SocketEventBus();
    bus.subscribe((event) => events.push(event));
    const listener = await TcpListener.listen({ id: 'tl_test', seq: 1, labels: {}, owner: null, options: { ...OPTIONS, ...options }, events: bus, onAccept });
    listeners.push(listener);
    return { listener, events };
  }

  async function dial(listener: TcpListener): Promise<Socket> {
    const socket = connect({ port: listener.local!.port, host: listener.local!.address });
    sockets.push(socket);
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    return socket;
  }

  it('binds port 0 to a real port and reports it', async () => {
    const { listener, events } = await listen();
    expect(listener.state).toBe('listening');
    expect(listener.local).toEqual({ address: '127.0.0.1', port: expect.any(Number), family: 'IPv4' });
    expect(listener.local!.port).toBeGreaterThan(0);
    expect(events).toEqual([expect.objectContaining({ type: 'listener.bound', data: { address: '127.0.0.1', port: listener.local!.port } })]);
  });

  it('listens on IPv6 loopback', async () => {
    const { listener } = await listen({ host: '::1' });
    expect(listener.local).toMatchObject({ address: '::1', family: 'IPv6' });
    await dial(listener);
  });

  it('refuses a port in use with ADDRESS_IN_USE', async () => {
    const { listener } = await listen();
    const refused = await TcpListener.listen({
      id: 'tl_two',
      seq: 2,
      labels: {},
      owner: null,
      options: { ...OPTIONS, port: listener.local!.port },
      events: new SocketEventBus(),
      onAccept: () => undefined,
    }).catch((err: SocketError) => err);
    expect(refused).toMatchObject({ code: 'ADDRESS_IN_USE', details: { errno: 'EADDRINUSE' } });
  });

  it('hands every accepted socket on with its accept index, and wakes those waiting for it', async () => {
    const indexes: number[] = [];
    const { listener } = await listen({}, (_l, socket, index) => {
      sockets.push(socket);
      indexes.push(index);
    });
    const waiting = listener.waitForAcceptAfter(0, 5000);
    await dial(listener);
    expect(await waiting).toBe(true);
    await dial(listener);
    await listener.waitForAcceptAfter(1, 5000);
    expect([indexes, listener.accepted]).toEqual([[1, 2], 2]);
    expect(await listener.waitForAcceptAfter(2, 10)).toBe(false);
  });

  it('counts the connections it keeps open through its own methods', async () => {
    const { listener } = await listen();
    listener.connectionOpened();
    listener.connectionOpened();
    listener.connectionClosed();
    expect(listener.active).toBe(1);
  });

  it('refuses a socket turned away by the registry: reset, counted and reported', async () => {
    const { listener, events } = await listen({}, (l, socket) => l.refuse(socket, 'quota'));
    const peer = connect({ port: listener.local!.port, host: '127.0.0.1' });
    sockets.push(peer);
    // `once` would reject at the reset's error: wait for the close itself.
    await new Promise((resolve) => peer.on('error', () => undefined).once('close', resolve));
    expect(listener.dropped).toBe(1);
    expect(events.find((e) => e.type === 'listener.dropped')).toMatchObject({ data: { reason: 'quota', remoteAddress: '127.0.0.1', remotePort: expect.any(Number) } });
  });

  it('drops connections over maxConnections, counted and reported', async () => {
    const { listener, events } = await listen({ maxConnections: 1 });
    await dial(listener);
    await listener.waitForAcceptAfter(0, 5000);
    const extra = await dial(listener);
    await new Promise((resolve) => extra.once('close', resolve));
    expect(listener.dropped).toBe(1);
    expect(events.find((e) => e.type === 'listener.dropped')).toMatchObject({ data: { reason: 'max-connections' } });
  });

  it('closes once, reporting local, and releases those waiting for an accept', async () => {
    const { listener, events } = await listen();
    const waiting = listener.waitForAcceptAfter(0, 10_000);
    listener.close();
    listener.close();
    // A closed listener accepts nothing more: the wait answers at once.
    expect(await waiting).toBe(true);
    expect([listener.state, listener.closed?.reason]).toEqual(['closed', 'local']);
    expect(events.filter((e) => e.type === 'listener.closed')).toHaveLength(1);
  });
});
