import { Socket, createSocket } from 'node:dgram';
import { once } from 'node:events';
import { SocketError } from './socket-error';
import { SocketEvent, SocketEventBus } from './socket-events';
import { Destinations, HostResolver } from './destination';
import { UdpSocket, UdpSocketOptions } from './udp-socket';

const DEFAULTS: UdpSocketOptions = {
  type: 'udp4',
  host: '127.0.0.1',
  port: 0,
  mode: 'buffer',
  reuseAddr: false,
  ipv6Only: false,
  broadcast: false,
  ttl: 64,
  recvBufferSize: null,
  sendBufferSize: null,
  multicast: null,
  connectTo: null,
  maxDatagrams: 100,
  maxBufferedBytes: 1024 * 1024,
};

const ALLOW_ALL = { judgeDestination: () => ({ allowed: true }) as const, judgeBind: () => ({ allowed: true }) as const };

const noDns: HostResolver = () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));

describe('UdpSocket', () => {
  const opened: UdpSocket[] = [];
  const peers: Socket[] = [];
  let n = 0;

  async function open(options: Partial<UdpSocketOptions> = {}, extra: { events?: SocketEventBus; resolveHost?: HostResolver } = {}): Promise<UdpSocket> {
    n++;
    const socket = await UdpSocket.open({
      id: `us_test${n}`,
      seq: n,
      labels: {},
      owner: null,
      options: { ...DEFAULTS, ...options },
      events: extra.events ?? new SocketEventBus(),
      destinations: new Destinations(ALLOW_ALL, extra.resolveHost ?? noDns),
    });
    opened.push(socket);
    return socket;
  }

  async function peer(type: 'udp4' | 'udp6' = 'udp4'): Promise<Socket> {
    const socket = createSocket(type);
    peers.push(socket);
    socket.bind(0, type === 'udp4' ? '127.0.0.1' : '::1');
    await once(socket, 'listening');
    return socket;
  }

  function sendFrom(from: Socket, text: string, to: UdpSocket): Promise<void> {
    return new Promise((resolve, reject) => from.send(text, to.local!.port, to.local!.address, (err) => (err ? reject(err) : resolve())));
  }

  async function rejection(promise: Promise<unknown>): Promise<SocketError> {
    const err = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SocketError);
    return err as SocketError;
  }

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    for (const socket of peers.splice(0)) socket.close();
  });

  it('binds a free port and reports the real one, the options in force and buffer sizes', async () => {
    const socket = await open({ recvBufferSize: 65536 });
    expect(socket.state).toBe('bound');
    expect(socket.local).toEqual({ address: '127.0.0.1', port: expect.any(Number), family: 'IPv4' });
    expect(socket.local!.port).toBeGreaterThan(0);
    expect(socket.bufferSizes.recvBufferSize).toBeGreaterThanOrEqual(65536);
  });

  it('keeps datagrams with their sender and answers a long-poll as one arrives', async () => {
    const socket = await open();
    const client = await peer();
    const reading = socket.read({ from: 0, max: 10, minDatagrams: 1, maxBytes: 65536, waitMs: 5000 });
    await sendFrom(client, 'ping', socket);
    const result = await reading;
    expect(result).toMatchObject({ from: 0, nextSeq: 1, oldestSeq: 0, endSeq: 1, dropped: 0 });
    expect(result.datagrams[0]).toMatchObject({ seq: 0, data: Buffer.from('ping'), sender: { address: '127.0.0.1', port: client.address().port, family: 'IPv4' } });
    expect({ datagramsIn: socket.datagramsIn, bytesIn: socket.bytesIn }).toEqual({ datagramsIn: 1, bytesIn: 4 });
  });

  it('gives each datagram its own sender when senders alternate, and its event the time it was received', async () => {
    const events = new SocketEventBus();
    const arrivals = collect(events, 4);
    const socket = await open({}, { events });
    const [a, b] = [await peer(), await peer()];
    for (const [from, text] of [[a, 'a1'], [a, 'a2'], [b, 'b1'], [a, 'a3']] as const) await sendFrom(from, text, socket);
    const seen = await arrivals;
    const read = await socket.read({ from: 0, max: 10, minDatagrams: 1, maxBytes: 65536, waitMs: 0 });
    expect(read.datagrams.map((d) => [d.data.toString(), d.sender])).toEqual(
      [a, a, b, a].map((from, i) => [['a1', 'a2', 'b1', 'a3'][i], { address: '127.0.0.1', port: from.address().port, family: 'IPv4' }]),
    );
    expect(seen.map((e) => e.at.getTime())).toEqual(read.datagrams.map((d) => d.receivedAt.getTime()));
  });

  it('drops and counts datagrams past its cap, publishing udp.dropped', async () => {
    const events = new SocketEventBus();
    const arrivals = collect(events, 4);
    const socket = await open({ maxDatagrams: 2 }, { events });
    const client = await peer();
    for (const text of ['a', 'b', 'c', 'd']) await sendFrom(client, text, socket);
    const seen = await arrivals;
    expect({ in: socket.datagramsIn, dropped: socket.dropped, held: socket.buffer.heldDatagrams }).toEqual({ in: 4, dropped: 2, held: 2 });
    const sender = { remoteAddress: '127.0.0.1', remotePort: client.address().port, size: 1 };
    expect(seen.map((e) => [e.type, e.data])).toEqual([
      ['udp.datagram', { seq: 0, ...sender }],
      ['udp.datagram', { seq: 1, ...sender }],
      ['udp.dropped', { ...sender, cause: 'maxDatagrams', dropped: 1 }],
      ['udp.dropped', { ...sender, cause: 'maxDatagrams', dropped: 2 }],
    ]);
    socket.releaseUpTo(2);
    await sendFrom(client, 'e', socket);
    const read = await socket.read({ max: 10, minDatagrams: 1, maxBytes: 10, waitMs: 5000 });
    expect(read.datagrams.map((d) => [d.seq, d.data.toString()])).toEqual([[2, 'e']]);
  });

  it('a long-poll with minDatagrams answers once that many are held, with all of them', async () => {
    const socket = await open();
    const client = await peer();
    let answered = false;
    const reading = socket.read({ from: 0, max: 10, minDatagrams: 3, maxBytes: 65536, waitMs: 10_000 }).then((result) => {
      answered = true;
      return result;
    });
    for (const text of ['a', 'b']) await sendFrom(client, text, socket);
    await socket.read({ from: 0, max: 10, minDatagrams: 2, maxBytes: 65536, waitMs: 10_000 });
    expect(answered).toBe(false);
    await sendFrom(client, 'c', socket);
    expect((await reading).datagrams.map((d) => d.data.toString())).toEqual(['a', 'b', 'c']);
  });

  it('a long-poll waiting for more datagrams than the log can hold answers at the first drop', async () => {
    const socket = await open({ maxDatagrams: 2 });
    const client = await peer();
    const reading = socket.read({ from: 0, max: 10, minDatagrams: 5, maxBytes: 65536, waitMs: 10_000 });
    for (const text of ['a', 'b', 'c']) await sendFrom(client, text, socket);
    const result = await reading;
    expect({ got: result.datagrams.map((d) => d.data.toString()), dropped: result.dropped }).toEqual({ got: ['a', 'b'], dropped: 1 });
  });

  it('echoes each datagram to its sender in echo mode', async () => {
    const socket = await open({ mode: 'echo' });
    const client = await peer();
    const echoed = once(client, 'message');
    await sendFrom(client, 'ping', socket);
    const [msg, rinfo] = (await echoed) as [Buffer, { port: number }];
    expect({ msg: msg.toString(), port: rinfo.port }).toEqual({ msg: 'ping', port: socket.local!.port });
    expect(socket.buffer).toEqual({ oldestSeq: 1, endSeq: 1, heldDatagrams: 0, heldBytes: 0 });
  });

  it('sends to a destination, resolving host names in its own family', async () => {
    const resolveHost: HostResolver = async (host, family) => (host === 'peer.test' ? ['::1', '127.0.0.1'].filter((a) => family === 0 || a.includes(':') === (family === 6)) : []);
    const socket = await open({}, { resolveHost });
    const client = await peer();
    const arrived = once(client, 'message');
    const result = await socket.send(Buffer.from('hi'), { host: 'peer.test', port: client.address().port });
    expect(result).toEqual({ bytesSent: 2, destination: { address: '127.0.0.1', port: client.address().port, family: 'IPv4' } });
    expect(((await arrived) as [Buffer])[0].toString()).toBe('hi');
    expect({ datagramsOut: socket.datagramsOut, bytesOut: socket.bytesOut }).toEqual({ datagramsOut: 1, bytesOut: 2 });
    expect((await rejection(socket.send(Buffer.from('x'), { host: 'nowhere.test', port: 9 }))).code).toBe('NAME_NOT_RESOLVED');
  });

  it('refuses a datagram larger than UDP allows, and a destination it cannot reach', async () => {
    const socket = await open();
    const client = await peer();
    const port = client.address().port;
    expect(await socket.send(Buffer.alloc(65_507), { host: '127.0.0.1', port })).toMatchObject({ bytesSent: 65_507 });
    const tooLarge = await rejection(socket.send(Buffer.alloc(65_508), { host: '127.0.0.1', port }));
    expect({ code: tooLarge.code, details: tooLarge.details }).toEqual({ code: 'DATAGRAM_TOO_LARGE', details: { limit: 65_507, size: 65_508 } });
    expect((await rejection(socket.send(Buffer.from('x'), { host: '::1', port }))).code).toBe('INVALID_DESTINATION');
    expect((await rejection(socket.send(Buffer.from('x'), { host: '127.0.0.1' }))).code).toBe('INVALID_DESTINATION');
    expect((await rejection(socket.send(Buffer.from('x'), {}))).code).toBe('INVALID_DESTINATION');
  });

  it('sends to its default peer when connected, and only there', async () => {
    const server = await peer();
    const socket = await open({ connectTo: { host: '127.0.0.1', port: server.address().port } });
    expect(socket.remote).toEqual({ address: '127.0.0.1', port: server.address().port, family: 'IPv4' });
    const arrived = once(server, 'message');
    expect(await socket.send(Buffer.from('hi'), {})).toMatchObject({ destination: socket.remote });
    expect(((await arrived) as [Buffer])[0].toString()).toBe('hi');
    expect(await socket.send(Buffer.from('hi'), { host: '127.0.0.1', port: server.address().port })).toMatchObject({ bytesSent: 2 });
    expect((await rejection(socket.send(Buffer.from('x'), { host: '127.0.0.1', port: 9 }))).code).toBe('INVALID_DESTINATION');
  });

  it('survives ICMP errors on a connected socket: reports them, stays bound', async () => {
    const gone = await peer();
    const port = gone.address().port;
    gone.close();
    peers.splice(peers.indexOf(gone), 1);
    const socket = await open({ connectTo: { host: '127.0.0.1', port } });
    // The kernel reports the peer's "port unreachable" on the next send or receive, whichever comes first.
    let refusedSend: string | null = null;
    for (let i = 0; i < 5 && refusedSend === null && socket.lastError === null; i++) {
      refusedSend = await socket.send(Buffer.from('x'), {}).then(
        () => null,
        (err: SocketError) => String(err.details.errno),
      );
    }
    expect(refusedSend ?? socket.lastError?.errno).toBe('ECONNREFUSED');
    expect(socket.state).toBe('bound');
  });

  it('reports bind failures by errno and refuses an address of the other family', async () => {
    const first = await open();
    const taken = await rejection(open({ port: first.local!.port }));
    expect({ code: taken.code, errno: taken.details.errno }).toEqual({ code: 'ADDRESS_IN_USE', errno: 'EADDRINUSE' });
    expect((await rejection(open({ host: '::1' }))).code).toBe('ADDRESS_NOT_AVAILABLE');
    expect((await rejection(open({ multicast: { groups: ['ff02::1:3'], interface: null, ttl: 1, loopback: true } }))).code).toBe('ADDRESS_NOT_AVAILABLE');
  });

  it('closes idempotently, answers pending reads and refuses sends afterwards', async () => {
    const socket = await open();
    const reading = socket.read({ max: 10, minDatagrams: 1, maxBytes: 10, waitMs: 10_000 });
    await Promise.all([socket.close(), socket.close()]);
    expect((await reading).datagrams).toEqual([]);
    expect(socket.state).toBe('closed');
    expect(socket.closed).toMatchObject({ reason: 'local', errno: null });
    expect((await rejection(socket.send(Buffer.from('x'), { host: '127.0.0.1', port: 9 }))).code).toBe('SOCKET_CLOSED');
  });

  it('never leaves a send hanging when the socket closes under it', async () => {
    // dgram silently drops a send whose socket closed before it went out; close at each step of the way.
    for (let turns = 0; turns < 10; turns++) {
      const socket = await open();
      const sending = socket.send(Buffer.from('x'), { host: '127.0.0.1', port: 9 });
      for (let i = 0; i < turns; i++) await Promise.resolve();
      await socket.close();
      const outcome = await sending.then(
        () => 'sent',
        (err: SocketError) => err.code,
      );
      expect(['sent', 'SOCKET_CLOSED']).toContain(outcome);
    }
  });
});

/** Resolves with the first `count` datagram and drop events. */
function collect(events: SocketEventBus, count: number): Promise<SocketEvent[]> {
  const seen: SocketEvent[] = [];
  return new Promise((resolve) => {
    events.subscribe((event) => {
      if (event.type !== 'udp.datagram' && event.type !== 'udp.dropped') return;
      seen.push(event);
      if (seen.length === count) resolve(seen);
    });
  });
}
