import request from 'supertest';
import { ClusterNode, clusterView, pollUntil, useCluster, waitForMembers } from '../support/cluster';
import { TcpPeer } from '../support/peers';
import { SseClient } from '../support/sse-client';

/** A peer and the connection a node holds for it, driven through that node's own API. */
interface Lane {
  node: ClusterNode;
  listenerId: string;
  connectionId: string;
  peer: TcpPeer;
  /** Offset of the next byte to read through the API. */
  read: number;
  /** Bytes the API sent back to the peer. */
  echoed: number;
}

describe('a cluster while Redis stops and comes back', () => {
  const cluster = useCluster();
  const lanes: Lane[] = [];
  const api = (node: ClusterNode) => request(node.url);

  afterAll(() => lanes.forEach((lane) => lane.peer.socket.destroy()));

  /** One round on a lane: the peer sends a numbered line, the node reads it and sends it back. */
  async function round(lane: Lane, n: number): Promise<void> {
    const line = `${lane.node.nodeId} ${String(n).padStart(6, '0')}\n`;
    await lane.peer.write(line);
    const read = await api(lane.node).get(`/v1/tcp/connections/${lane.connectionId}/buffer`).query({ from: lane.read, waitMs: 5000, minBytes: line.length }).expect(200);
    expect(read.body.data).toBe(line);
    lane.read = read.body.nextOffset as number;
    await api(lane.node).post(`/v1/tcp/connections/${lane.connectionId}/send`).send({ data: read.body.data }).expect(200);
    lane.echoed += line.length;
    await lane.peer.receive(lane.echoed);
  }

  it('no crash, local sockets keep working with no byte lost, remote calls answer 503 CLUSTER_UNAVAILABLE, and the cluster recovers', async () => {
    const { nodes, redis } = cluster;
    for (const node of nodes) {
      const listener = await api(node).post('/v1/tcp/listeners').send({ host: node.host, port: 0 }).expect(201);
      const peer = await TcpPeer.connect(listener.body.local.port, node.host);
      const accepted = await api(node).get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ waitMs: 5000 }).expect(200);
      lanes.push({ node, listenerId: listener.body.id, connectionId: accepted.body.items[0].id, peer, read: 0, echoed: 0 });
    }
    const [a, b] = nodes;
    let rounds = 0;
    let traffic = true;
    const flowing = Promise.all(
      lanes.map(async (lane) => {
        for (let n = 0; traffic || n < 3; n++) {
          await round(lane, n);
          rounds++;
        }
      }),
    );

    const onA = await SseClient.open(Number(new URL(a.url).port), '/v1/events', {}, a.host);
    await onA.waitFor((message) => message.event === 'connection.data');
    await redis.stop();
    const outageFrom = lanes.map((lane) => lane.read);
    const ready = await pollUntil(async () => {
      const health = await api(a).get('/health/ready').expect(200);
      return health.body.details.redis.redis === 'unavailable' ? health.body : undefined;
    });
    expect(ready.status).toBe('ok');
    const remote = await api(a).get(`/v1/tcp/listeners/${lanes[1].listenerId}`).expect(503);
    expect(remote.body.code).toBe('CLUSTER_UNAVAILABLE');
    expect(remote.headers['retry-after']).toBe('5');
    expect((await api(b).get('/v1/cluster').expect(503)).body.code).toBe('CLUSTER_UNAVAILABLE');
    await api(b).get(`/v1/tcp/listeners/${lanes[1].listenerId}`).expect(200);
    const duringOutage = rounds;
    await pollUntil(async () => (rounds >= duringOutage + 6 ? true : undefined), 10_000, 'rounds while Redis is away');

    const outageTo = lanes.map((lane) => lane.read);
    await redis.run();
    await waitForMembers(
      nodes.map((node) => node.url),
      3,
    );
    for (const lane of lanes) for (const via of nodes) await api(via).get(`/v1/tcp/connections/${lane.connectionId}`).expect(200);
    const listed = await api(a).get('/v1/tcp/connections').expect(200);
    expect(listed.body.items.map((item: { id: string }) => item.id).sort()).toEqual(lanes.map((lane) => lane.connectionId).sort());
    expect((await clusterView(b.url)).nodes).toHaveLength(3);

    // What every node's sockets did while Redis was away reaches the event streams once it is back, every event of it.
    for (const [index, lane] of lanes.entries()) {
      const dataOf = (message: { event: string; json: Record<string, unknown> }) =>
        message.event === 'connection.data' && message.json.resourceId === lane.connectionId ? (message.json.data as { from: number; to: number }) : undefined;
      await onA.waitFor((message) => dataOf(message)?.to === outageTo[index]);
      // From the second line on: the first may have been on its way to Redis as it was killed.
      const during = onA.messages.flatMap((message) => dataOf(message) ?? []).filter((data) => data.from > outageFrom[index] && data.to <= outageTo[index]);
      expect(during.length).toBeGreaterThanOrEqual(1);
      const lineLength = `${lane.node.nodeId} 000000\n`.length;
      expect(during.map((data) => data.from)).toEqual([outageFrom[index] + lineLength, ...during.slice(0, -1).map((data) => data.to)]);
      expect(during[during.length - 1].to).toBe(outageTo[index]);
    }
    onA.close();

    traffic = false;
    await flowing;
    for (const lane of lanes) {
      const sent = lane.peer.received.toString();
      const lines = sent.trimEnd().split('\n');
      expect(lines).toEqual(lines.map((_line, n) => `${lane.node.nodeId} ${String(n).padStart(6, '0')}`));
      expect(lane.node.server.process.exitCode).toBeNull();
    }
  });
});
