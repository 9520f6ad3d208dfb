import request from 'supertest';
import { Redis } from 'ioredis';
import { SOCKET_EVENTS } from '../../src/sockets/socket-events';
import { ClusterNode, clusterView, pollUntil, useCluster } from '../support/cluster';
import { TcpPeer } from '../support/peers';
import { SseClient } from '../support/sse-client';
import { inboxOf, openWs } from '../support/ws-client';
import { once } from 'node:events';

describe('a cluster losing a node (kill -9)', () => {
  const cluster = useCluster();
  const streams: SseClient[] = [];
  const peers: TcpPeer[] = [];
  const api = (node: ClusterNode) => request(node.url);

  afterAll(() => {
    streams.forEach((stream) => stream.close());
    peers.forEach((peer) => peer.socket.destroy());
  });

  it('within 10 s the survivors publish node.lost and owner-lost closes once; its ids answer 410; the others’ sockets are untouched', async () => {
    const { nodes } = cluster;
    const [a, b, c] = nodes;
    // Echo listeners on every node, each with a connected peer.
    const listeners = await Promise.all(nodes.map((node) => api(node).post('/v1/tcp/listeners').send({ host: node.host, port: 0, mode: 'echo' }).expect(201)));
    for (const [index, node] of nodes.entries()) peers.push(await TcpPeer.connect(listeners[index].body.local.port, node.host));
    const accepted = await api(a).get(`/v1/tcp/listeners/${listeners[2].body.id}/connections`).query({ waitMs: 5000 }).expect(200);
    const cConnection = accepted.body.items[0].id as string;
    const cUdp = (await api(a).post('/v1/udp/sockets').send({ type: 'udp4', host: c.host, placement: { node: c.nodeId } }).expect(201)).body.id as string;
    const cSockets = [listeners[2].body.id as string, cConnection, cUdp];
    await pollUntil(async () => ((await clusterView(a.url)).nodes.find((n) => n.nodeId === c.nodeId)?.load === 3 ? true : undefined));

    for (const node of [a, b]) streams.push(await SseClient.open(Number(new URL(node.url).port), '/v1/events', {}, node.host));
    const killedAt = Date.now();
    c.server.process.kill('SIGKILL');

    // Every survivor's stream carries the loss, once, under the same id: one survivor claimed it.
    const lost = await Promise.all(streams.map((stream) => stream.waitFor((message) => message.event === 'node.lost')));
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect(lost[0].json).toMatchObject({ type: 'node.lost', resourceId: c.nodeId, kind: 'cluster-node', data: { apiUrl: c.url, sockets: 3 } });
    expect(lost[1].id).toBe(lost[0].id);
    expect(Object.keys(lost[0].json.data as object).sort()).toEqual(Object.keys(SOCKET_EVENTS['node.lost'].data).sort());
    const ownerLost = (stream: SseClient) => stream.events().filter((event) => (event.data as { reason?: string }).reason === 'owner-lost');
    for (const stream of streams) {
      await pollUntil(async () => (ownerLost(stream).length >= 3 ? true : undefined), 5000, 'three owner-lost closes');
      expect(
        ownerLost(stream)
          .map((event) => [event.type, event.resourceId])
          .sort(),
      ).toEqual(
        [
          ['connection.closed', cConnection],
          ['listener.closed', listeners[2].body.id],
          ['udp.closed', cUdp],
        ].sort(),
      );
      expect(stream.events('node.lost')).toHaveLength(1);
    }

    for (const via of [a, b]) {
      for (const id of cSockets) {
        const kind = id.startsWith('tl_') ? 'tcp/listeners' : id.startsWith('tc_') ? 'tcp/connections' : 'udp/sockets';
        const gone = await api(via).get(`/v1/${kind}/${id}`).expect(410);
        expect(gone.body).toMatchObject({ code: 'OWNER_LOST', nodeId: c.nodeId });
      }
    }
    const view = await clusterView(a.url);
    expect(view.nodes.map((n) => n.nodeId).sort()).toEqual([a.nodeId, b.nodeId].sort());

    // The survivors' sockets were never touched: their peers still get their echoes, through either node.
    for (const [index, node] of [a, b].entries()) {
      await peers[index].write('still here');
      expect((await peers[index].receive(10)).toString()).toBe('still here');
      await api(index === 0 ? b : a).get(`/v1/tcp/listeners/${listeners[index].body.id}`).expect(200);
      expect(node.server.process.exitCode).toBeNull();
    }
  });

  it('a node stopped gracefully (SIGTERM) leaves: its sockets close as usual on every stream, WebSockets tunnelled through it end (it used to wait out the shutdown timeout and exit 1), no node.lost, no share of any key’s count left', async () => {
    const [a, b] = cluster.nodes;
    const redis = new Redis(cluster.redis.url);
    try {
      const listener = await api(b).post('/v1/tcp/listeners').send({ port: 0 }).expect(201);
      const shares = await pollUntil(async () => {
        const held = await redis.hgetall('sockplane:held:');
        return Number(held[b.nodeId] ?? 0) > 0 ? held : undefined;
      });
      expect(Object.keys(shares)).toContain(b.nodeId);
      // A WebSocket attached through B to a connection A holds is a tunnel B keeps: stopping B ends it, and B still exits cleanly.
      const aListener = await api(a).post('/v1/tcp/listeners').send({ port: 0 }).expect(201);
      const aPeer = await TcpPeer.connect(aListener.body.local.port, a.host);
      peers.push(aPeer);
      const accepted = await api(a).get(`/v1/tcp/listeners/${aListener.body.id}/connections`).query({ waitMs: 5000 }).expect(200);
      const aConnection = accepted.body.items[0].id as string;
      const tunnelled = await openWs(Number(new URL(b.url).port), `/v1/tcp/connections/${aConnection}/attach?fromOffset=0`, { protocol: 'sockplane.raw.v1' }, b.host);
      await aPeer.write('through B');
      expect(Buffer.concat(await inboxOf(tunnelled).until((messages) => Buffer.concat(messages).length >= 9)).toString()).toBe('through B');
      const tunnelClosed = once(tunnelled, 'close');
      const onA = streams[0];
      await b.server.stop();
      expect(b.server.process.exitCode).toBe(0);
      await tunnelClosed;
      expect((await api(a).get(`/v1/tcp/connections/${aConnection}`).expect(200)).body.state).toBe('open');
      await onA.waitFor((message) => message.event === 'listener.closed' && message.json.resourceId === listener.body.id);
      expect(onA.messages.find((message) => message.event === 'listener.closed' && message.json.resourceId === listener.body.id)?.json.data).toMatchObject({ reason: 'local' });
      // Once A's view has B gone, B is no member any more, and a node that is none is never claimed lost.
      await pollUntil(async () => ((await clusterView(a.url)).nodes.length === 1 ? true : undefined));
      expect(await redis.hgetall('sockplane:held:')).not.toHaveProperty(b.nodeId);
      expect(onA.events('node.lost').map((event) => event.resourceId)).not.toContain(b.nodeId);
    } finally {
      redis.disconnect();
    }
  });
});
