import { once } from 'node:events';
import { AddressInfo, Server, Socket, createServer } from 'node:net';
import { AccessPolicy, Destinations } from './destination';
import { SocketError } from './socket-error';
import { openTcpSocket } from './tcp-connector';

const ALLOW_ALL: AccessPolicy = { judgeDestination: () => ({ allowed: true }), judgeBind: () => ({ allowed: true }) };

describe('openTcpSocket', () => {
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  afterEach(async () => {
    sockets.splice(0).forEach((socket) => socket.destroy());
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  async function server(host: string): Promise<number> {
    const listening = createServer((socket) => sockets.push(socket));
    servers.push(listening);
    listening.listen(0, host);
    await once(listening, 'listening');
    return (listening.address() as AddressInfo).port;
  }

  it('dials the address the name resolved to, once, and leaves no listener behind', async () => {
    const port = await server('::1');
    const lookups: string[] = [];
    const destinations = new Destinations(ALLOW_ALL, async (host) => {
      lookups.push(host);
      return ['::1'];
    });
    const socket = await openTcpSocket({ host: 'six.test', port, family: 0, timeoutMs: 5000 }, destinations);
    sockets.push(socket);
    expect([socket.remoteAddress, socket.remotePort, lookups]).toEqual(['::1', port, ['six.test']]);
    expect([socket.listenerCount('connect'), socket.listenerCount('error')]).toEqual([0, 0]);
  });

  it('maps a refused connect to CONNECTION_REFUSED with its errno', async () => {
    const port = await server('127.0.0.1');
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const refused = await openTcpSocket({ host: '127.0.0.1', port, family: 0, timeoutMs: 5000 }, new Destinations(ALLOW_ALL)).catch((err: SocketError) => err);
    expect(refused).toMatchObject({ code: 'CONNECTION_REFUSED', details: { errno: 'ECONNREFUSED' } });
  });

  it('gives up with CONNECT_TIMEOUT when resolving used up the time', async () => {
    const slow = new Destinations(ALLOW_ALL, () => new Promise((resolve) => setTimeout(() => resolve(['127.0.0.1']), 30)));
    const timedOut = await openTcpSocket({ host: 'slow.test', port: 9, family: 0, timeoutMs: 10 }, slow).catch((err: SocketError) => err);
    expect(timedOut).toMatchObject({ code: 'CONNECT_TIMEOUT', message: 'connect to slow.test:9 timed out after 10 ms', details: { errno: 'ETIMEDOUT', timeoutMs: 10 } });
  });

  it('refuses a destination the policy denies before dialling', async () => {
    const denyAll: AccessPolicy = { ...ALLOW_ALL, judgeDestination: () => ({ allowed: false, rule: 'r', ruleSource: 'built-in', reason: 'test' }) };
    const refused = await openTcpSocket({ host: '127.0.0.1', port: 9, family: 0, timeoutMs: 5000 }, new Destinations(denyAll)).catch((err: SocketError) => err);
    expect(refused).toMatchObject({ code: 'POLICY_DENIED', message: 'connect to 127.0.0.1:9 is refused by the network policy: r (built-in rule: test)' });
  });
});
