import request from 'supertest';
import { CLUSTER_SECRET, ClusterNode, clusterView, pollUntil, useCluster } from '../support/cluster';
import { PythonPeer, TcpPeer } from '../support/peers';
import { SseClient } from '../support/sse-client';
import { closeWs, inboxOf, openWs } from '../support/ws-client';

const ALICE = 'alice-secret-0123456789';
const BOB = 'bob-secret-0123456789ab';
const asAlice = { authorization: `Bearer ${ALICE}` };
const asBob = { authorization: `Bearer ${BOB}` };
/** Sockets a key may hold across the cluster: more than any test here holds at once, fewer than one node could give Bob. */
const QUOTA = 10;

interface Page {
  items: { id: string; createdAt: string }[];
  nextCursor: string | null;
  partial?: boolean;
  missingNodes?: string[];
}

describe('a cluster of three nodes on Redis: any node answers for any socket', () => {
  const cluster = useCluster({ SOCKPLANE_API_KEYS: `alice:${ALICE},bob:${BOB}`, SOCKPLANE_MAX_SOCKETS_PER_KEY: String(QUOTA) }, asAlice);
  let nodes: ClusterNode[];
  let a: ClusterNode;
  let b: ClusterNode;
  let c: ClusterNode;
  const api = (node: ClusterNode) => request(node.url);

  beforeAll(() => {
    nodes = cluster.nodes;
    [a, b, c] = nodes;
  });

  it('GET /v1/cluster › every node lists the three, live, each at its own address', async () => {
    for (const node of nodes) {
      const view = await clusterView(node.url, asAlice);
      expect(view.nodeId).toBe(node.nodeId);
      expect(view.nodes.map((n) => n.apiUrl).sort()).toEqual(nodes.map((n) => n.url).sort());
      expect(view.nodes.every((n) => n.state === 'live')).toBe(true);
    }
    const single = await api(a).get('/v1/cluster').set(asAlice).expect(200);
    expect(single.body.nodes.find((n: { self: boolean }) => n.self)).toMatchObject({ nodeId: a.nodeId, socketHost: a.host });
  });

  it('the tutorial through node A for a listener node B owns: client.py, long-polls, reads, octet-stream, sends', async () => {
    const created = await api(a)
      .post('/v1/tcp/listeners')
      .set(asAlice)
      .send({ port: 0, placement: { node: b.nodeId }, labels: { flow: 'tutorial' } })
      .expect(201);
    const listener = created.body as { id: string; local: { address: string; port: number } };
    expect(listener.id).toContain(`_${b.nodeId}_`);
    // Without `host`, B binds its own socket host: the address clients dial, not the API's front.
    expect(listener.local.address).toBe(b.host);
    await api(a).get(`/v1/tcp/listeners/${listener.id}`).set(asAlice).expect(200);

    const client = new PythonPeer('tutorial/client.py', [listener.local.port, b.host]);
    try {
      const accepted = await api(a).get(`/v1/tcp/listeners/${listener.id}/connections`).query({ waitMs: 5000 }).set(asAlice).expect(200);
      const connectionId = accepted.body.items[0].id as string;
      expect(connectionId).toContain(`_${b.nodeId}_`);

      const read = await api(a).get(`/v1/tcp/connections/${connectionId}/buffer`).query({ waitMs: 5000, minBytes: 14 }).set(asAlice).expect(200);
      expect(read.body).toMatchObject({ data: 'Hello, server!', nextOffset: 14 });
      const raw = await api(a)
        .get(`/v1/tcp/connections/${connectionId}/buffer`)
        .set({ ...asAlice, accept: 'application/octet-stream' })
        .buffer(true)
        .parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => done(null, Buffer.concat(chunks)));
        })
        .expect(200);
      expect(raw.headers['content-type']).toMatch(/^application\/octet-stream/);
      expect((raw.body as Buffer).toString()).toBe('Hello, server!');

      await api(a).post(`/v1/tcp/connections/${connectionId}/send`).set(asAlice).send({ data: 'Hello, server!' }).expect(200);
      expect(await client.exited).toBe(0);
      expect(client.stdout).toBe('Received: Hello, server!\n');
    } finally {
      client.kill();
      await api(a).delete(`/v1/tcp/listeners/${listener.id}?closeConnections=true`).set(asAlice).expect(200);
    }
    await api(c).get(`/v1/tcp/listeners/${listener.id}`).set(asAlice).expect(404);
  });

  it('an octet-stream send through node A reaches the peer of a connection node C holds', async () => {
    const created = await api(c).post('/v1/tcp/listeners').set(asAlice).send({ host: c.host, port: 0 }).expect(201);
    const peer = await TcpPeer.connect(created.body.local.port, c.host);
    try {
      const accepted = await api(a).get(`/v1/tcp/listeners/${created.body.id}/connections`).query({ waitMs: 5000 }).set(asAlice).expect(200);
      const body = Buffer.alloc(256 * 1024, 7);
      await api(a)
        .post(`/v1/tcp/connections/${accepted.body.items[0].id}/send`)
        .set({ ...asAlice, 'content-type': 'application/octet-stream' })
        .send(body)
        .expect(200);
      expect((await peer.receive(body.length)).equals(body)).toBe(true);
    } finally {
      peer.socket.destroy();
      await api(a).delete(`/v1/tcp/listeners/${created.body.id}?closeConnections=true`).set(asAlice).expect(200);
    }
  });

  it('lists through any node show every node’s sockets in creation order, paged with one cursor', async () => {
    const made: string[] = [];
    for (const node of [a, b, c, b, a, c, c]) {
      const created = await api(node).post('/v1/udp/sockets').set(asAlice).send({ type: 'udp4', host: node.host, labels: { list: 'paged' } }).expect(201);
      made.push(created.body.id as string);
    }
    try {
      for (const via of nodes) {
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const page: Page = (await api(via).get('/v1/udp/sockets').query({ limit: 3, label: 'list:paged', ...(cursor ? { cursor } : {}) }).set(asAlice).expect(200)).body;
          expect(page.items.length).toBeLessThanOrEqual(3);
          expect(page.partial).toBeUndefined();
          seen.push(...page.items.map((item) => item.id));
          cursor = page.nextCursor;
        } while (cursor !== null);
        expect(seen).toEqual(made);
      }
    } finally {
      await Promise.all(made.map((id) => api(a).delete(`/v1/udp/sockets/${id}`).set(asAlice).expect(200)));
    }
  });

  it('a list with one node stopped (SIGSTOP) answers partial, naming that node; a call for its socket answers 503 with Retry-After', async () => {
    const created = await Promise.all(nodes.map((node) => api(node).post('/v1/tcp/listeners').set(asAlice).send({ host: node.host, port: 0, labels: { list: 'partial' } }).expect(201)));
    c.server.process.kill('SIGSTOP');
    try {
      const page: Page = (await api(a).get('/v1/tcp/listeners').query({ label: 'list:partial' }).set(asAlice).expect(200)).body;
      expect(page).toMatchObject({ partial: true, missingNodes: [c.nodeId] });
      expect(page.items.map((item) => item.id).sort()).toEqual([created[0].body.id, created[1].body.id].sort());
      const silent = await api(a).get(`/v1/tcp/listeners/${created[2].body.id}`).set(asAlice).expect(503);
      expect(silent.body).toMatchObject({ code: 'OWNER_UNREACHABLE', nodeId: c.nodeId });
      expect(silent.headers['retry-after']).toBe('2');
    } finally {
      c.server.process.kill('SIGCONT');
    }
    const whole: Page = (await api(a).get('/v1/tcp/listeners').query({ label: 'list:partial' }).set(asAlice).expect(200)).body;
    expect(whole.partial).toBeUndefined();
    expect(whole.items).toHaveLength(3);
    await Promise.all(created.map((res) => api(b).delete(`/v1/tcp/listeners/${res.body.id}`).set(asAlice).expect(200)));
  });

  it('keys: a key’s sockets on node B stay invisible to another key through node A', async () => {
    const created = await api(b).post('/v1/tcp/listeners').set(asBob).send({ host: b.host, port: 0, labels: { keys: 'bob' } }).expect(201);
    try {
      await api(a).get(`/v1/tcp/listeners/${created.body.id}`).set(asAlice).expect(404);
      await api(a).delete(`/v1/tcp/listeners/${created.body.id}`).set(asAlice).expect(404);
      const alices: Page = (await api(a).get('/v1/tcp/listeners').query({ label: 'keys:bob' }).set(asAlice).expect(200)).body;
      expect(alices.items).toEqual([]);
      const bobs: Page = (await api(a).get('/v1/tcp/listeners').query({ label: 'keys:bob' }).set(asBob).expect(200)).body;
      expect(bobs.items.map((item) => item.id)).toEqual([created.body.id]);
      await api(a).get(`/v1/tcp/listeners/${created.body.id}`).expect(401);
    } finally {
      await api(b).delete(`/v1/tcp/listeners/${created.body.id}`).set(asBob).expect(200);
    }
  });

  /** Closing gives a key's quota back on every node (the counts move in Redis a moment later): Bob can make a socket through `node` again. */
  async function expectBobsQuotaBack(node: ClusterNode): Promise<void> {
    const again = await pollUntil(async () => {
      const res = await api(node).post('/v1/udp/sockets').set(asBob).send({ type: 'udp4', host: node.host });
      return res.status === 201 ? (res.body.id as string) : undefined;
    });
    await api(node).delete(`/v1/udp/sockets/${again}`).set(asBob).expect(200);
  }

  it('quotas: a key’s sockets count across the cluster, whichever node makes them', async () => {
    const bobs: string[] = [];
    try {
      for (let n = 0; n < QUOTA; n++) {
        const node = nodes[n % nodes.length];
        bobs.push((await api(node).post('/v1/udp/sockets').set(asBob).send({ type: 'udp4', host: node.host }).expect(201)).body.id as string);
      }
      for (const node of nodes) {
        const refused = await api(node).post('/v1/udp/sockets').set(asBob).send({ type: 'udp4', host: node.host }).expect(429);
        expect(refused.body).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: 'maxSocketsPerKey', max: QUOTA });
      }
      // Another key is not held back by Bob's count.
      const alices = await api(a).post('/v1/udp/sockets').set(asAlice).send({ type: 'udp4' }).expect(201);
      await api(a).delete(`/v1/udp/sockets/${alices.body.id}`).set(asAlice).expect(200);
    } finally {
      await Promise.all(bobs.map((id) => api(a).delete(`/v1/udp/sockets/${id}`).set(asBob).expect(200)));
    }
    // Closing gives the quota back, on every node.
    await expectBobsQuotaBack(c);
  });

  it('quotas: creates racing through every node at once never take a key past its quota', async () => {
    const attempts = await Promise.all(
      Array.from({ length: QUOTA * 3 }, (_, n) => {
        const node = nodes[n % nodes.length];
        return api(node).post('/v1/udp/sockets').set(asBob).send({ type: 'udp4', host: node.host });
      }),
    );
    const made = attempts.filter((res) => res.status === 201).map((res) => res.body.id as string);
    try {
      expect(attempts.filter((res) => res.status !== 201).every((res) => res.status === 429 && res.body.code === 'QUOTA_EXCEEDED')).toBe(true);
      expect(made).toHaveLength(QUOTA);
    } finally {
      await Promise.all(made.map((id) => api(a).delete(`/v1/udp/sockets/${id}`).set(asBob).expect(200)));
    }
    await expectBobsQuotaBack(b);
  });

  it('a forwarding header from outside is dropped: the list still gathers every node', async () => {
    const created = await Promise.all(nodes.map((node) => api(node).post('/v1/tcp/listeners').set(asAlice).send({ host: node.host, port: 0, labels: { list: 'forged' } }).expect(201)));
    try {
      const forged: Page = (
        await api(a).get('/v1/tcp/listeners').query({ label: 'list:forged' }).set({ ...asAlice, 'sockplane-cluster-secret': 'not-the-secret-at-all' }).expect(200)
      ).body;
      expect(forged.items).toHaveLength(3);
      // With the secret, a node answers for itself alone: that is how nodes gather lists.
      const local: Page = (await api(a).get('/v1/tcp/listeners').query({ label: 'list:forged' }).set({ ...asAlice, 'sockplane-cluster-secret': CLUSTER_SECRET }).expect(200)).body;
      expect(local.items.map((item) => item.id)).toEqual([created[0].body.id]);
    } finally {
      await Promise.all(created.map((res) => api(a).delete(`/v1/tcp/listeners/${res.body.id}`).set(asAlice).expect(200)));
    }
  });

  it('the keyed page form is for nodes only: from outside its header is dropped; a node asking with the secret gets each item’s keys and JSON', async () => {
    const created = await api(b).post('/v1/tcp/listeners').set(asAlice).send({ host: b.host, port: 0, labels: { list: 'keyed' } }).expect(201);
    try {
      const asked = { ...asAlice, 'sockplane-cluster-page': 'application/vnd.sockplane.keyed-page' };
      const outside = await api(b).get('/v1/tcp/listeners').query({ label: 'list:keyed' }).set(asked).expect(200);
      expect(outside.headers['content-type']).toMatch(/^application\/json/);
      const json = await api(b).get('/v1/tcp/listeners').query({ label: 'list:keyed' }).set({ ...asAlice, 'sockplane-cluster-secret': CLUSTER_SECRET }).expect(200);
      const keyed = await api(b)
        .get('/v1/tcp/listeners')
        .query({ label: 'list:keyed' })
        .set({ ...asked, 'sockplane-cluster-secret': CLUSTER_SECRET })
        .buffer(true)
        .parse((res, done) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => done(null, text));
        })
        .expect(200);
      expect(keyed.headers['content-type']).toBe('application/vnd.sockplane.keyed-page');
      const [head, ...lines] = (keyed.body as string).split('\n');
      expect(JSON.parse(head)).toEqual({ nextCursor: null, keys: [[created.body.id, created.body.createdAt]] });
      expect(lines).toEqual([JSON.stringify(json.body.items[0])]);
    } finally {
      await api(b).delete(`/v1/tcp/listeners/${created.body.id}`).set(asAlice).expect(200);
    }
  });

  it('a list through any node refuses what a single node refuses: a limit out of range, a cursor it did not give, no key', async () => {
    for (const via of nodes) {
      const tooMany = await api(via).get('/v1/tcp/listeners').query({ limit: 0 }).set(asAlice).expect(400);
      expect(tooMany.body).toMatchObject({ code: 'VALIDATION_FAILED' });
      const forged = await api(via).get('/v1/tcp/listeners').query({ cursor: 'c1.e30' }).set(asAlice).expect(400);
      expect(forged.body).toMatchObject({ code: 'INVALID_CURSOR' });
      await api(via).get('/v1/tcp/listeners').expect(401);
    }
  });

  it('placement: spread makes the socket on the least loaded node; a node that is not live is refused', async () => {
    const held = await Promise.all(
      [a, a, b].map((node) => api(node).post('/v1/tcp/listeners').set(asAlice).send({ host: node.host, port: 0 }).expect(201)),
    );
    try {
      // Loads travel with the heartbeats: wait until A sees C as the least loaded.
      await pollUntil(async () => {
        const loads = new Map((await clusterView(a.url, asAlice)).nodes.map((n) => [n.nodeId, n.load]));
        return (loads.get(c.nodeId) ?? 0) < Math.min(loads.get(a.nodeId) ?? 0, loads.get(b.nodeId) ?? 0) ? true : undefined;
      });
      const made = await api(a).post('/v1/udp/sockets').set(asAlice).send({ type: 'udp4', host: '127.0.0.1', placement: { spread: true } }).expect(201);
      await api(a).delete(`/v1/udp/sockets/${made.body.id}`).set(asAlice).expect(200);
      const spread = made.body.id as string;
      expect(spread).toContain(`_${c.nodeId}_`);
    } finally {
      await Promise.all(held.map((res) => api(a).delete(`/v1/tcp/listeners/${res.body.id}`).set(asAlice).expect(200)));
    }
    const refused = await api(a).post('/v1/udp/sockets').set(asAlice).send({ type: 'udp4', placement: { node: 'zzzzzz' } }).expect(400);
    expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'placement.node' }] });
    await api(a).post('/v1/udp/sockets').set(asAlice).send({ type: 'udp4', placement: { node: 'NOT A NODE' } }).expect(400);
  });

  it('events: an event stream on A carries B’s events; Last-Event-ID resumes on C with the same ids; another key sees none of them', async () => {
    const port = (node: ClusterNode) => Number(new URL(node.url).port);
    const onA = await SseClient.open(port(a), '/v1/events?payload=utf8', asAlice, a.host);
    const bobOnA = await SseClient.open(port(a), '/v1/events', asBob, a.host);
    const created = await api(b).post('/v1/tcp/listeners').set(asAlice).send({ host: b.host, port: 0, labels: { events: 'across' } }).expect(201);
    const peer = await TcpPeer.connect(created.body.local.port, b.host);
    try {
      await peer.write('across the cluster');
      const data = await onA.waitFor((message) => message.event === 'connection.data');
      expect(data.json).toMatchObject({ payload: 'across the cluster', labels: { events: 'across' } });
      const accepted = onA.messages.find((message) => message.event === 'connection.accepted');
      expect(accepted?.json).toMatchObject({ data: { listenerId: created.body.id } });
      expect(onA.messages.find((message) => message.event === 'listener.bound')?.json).toMatchObject({ resourceId: created.body.id });

      const onC = await SseClient.open(port(c), '/v1/events?payload=utf8', { ...asAlice, 'last-event-id': String(accepted?.id) }, c.host);
      try {
        const resumed = await onC.waitFor((message) => message.event === 'connection.data');
        expect({ id: resumed.id, payload: resumed.json.payload }).toEqual({ id: data.id, payload: 'across the cluster' });
        expect(onC.messages[0].id).toBe(String(Number(accepted?.id) + 1));
      } finally {
        onC.close();
      }
      // Bob's own event arrives after Alice's: by then any of hers would have come too.
      const bobs = await api(b).post('/v1/udp/sockets').set(asBob).send({ type: 'udp4', host: b.host }).expect(201);
      await bobOnA.waitFor((message) => message.json.resourceId === bobs.body.id);
      await api(b).delete(`/v1/udp/sockets/${bobs.body.id}`).set(asBob).expect(200);
      expect(new Set(bobOnA.events().map((event) => event.resourceId))).toEqual(new Set([bobs.body.id]));
    } finally {
      onA.close();
      bobOnA.close();
      peer.socket.destroy();
      await api(a).delete(`/v1/tcp/listeners/${created.body.id}?closeConnections=true`).set(asAlice).expect(200);
    }
  });

  it('WebSocket attach through A to a connection B holds: the peer’s bytes come out, the WebSocket’s go in; a ticket B issued works through A', async () => {
    const created = await api(b).post('/v1/tcp/listeners').set(asAlice).send({ port: 0 }).expect(201);
    const peer = await TcpPeer.connect(created.body.local.port, b.host);
    const portOf = (node: ClusterNode) => Number(new URL(node.url).port);
    try {
      const accepted = await api(a).get(`/v1/tcp/listeners/${created.body.id}/connections`).query({ waitMs: 5000 }).set(asAlice).expect(200);
      const connectionId = accepted.body.items[0].id as string;
      await peer.write('Hello, server!');
      const ws = await openWs(portOf(a), `/v1/tcp/connections/${connectionId}/attach?fromOffset=0&write=true`, { protocol: 'sockplane.raw.v1', headers: asAlice }, a.host);
      try {
        const received = await inboxOf(ws).until((messages) => Buffer.concat(messages).length >= 14);
        expect(Buffer.concat(received).toString()).toBe('Hello, server!');
        ws.send(Buffer.from('Hello, client!'));
        expect((await peer.receive(14)).toString()).toBe('Hello, client!');
      } finally {
        await closeWs(ws);
      }
      // A one-time ticket (for a browser, which cannot send the key) is issued by the owner and redeemed there, both through A.
      const ticket = await api(a).post(`/v1/tcp/connections/${connectionId}/attach-tickets`).set(asAlice).send({}).expect(201);
      const byTicket = await openWs(portOf(a), `/v1/tcp/connections/${connectionId}/attach?fromOffset=0&ticket=${ticket.body.ticket as string}`, { protocol: 'sockplane.raw.v1' }, a.host);
      try {
        expect(Buffer.concat(await inboxOf(byTicket).until((messages) => Buffer.concat(messages).length >= 14)).toString()).toBe('Hello, server!');
      } finally {
        await closeWs(byTicket);
      }
    } finally {
      peer.socket.destroy();
      await api(b).delete(`/v1/tcp/listeners/${created.body.id}?closeConnections=true`).set(asAlice).expect(200);
    }
  });

  it('PUT …/rules through node A for a listener B holds: a client of B’s listener gets the rule’s reply; its count reads through C', async () => {
    const created = await api(b).post('/v1/tcp/listeners').set(asAlice).send({ port: 0, framing: { type: 'lines' } }).expect(201);
    try {
      const rules = { rules: [{ id: 'ping', match: { equals: 'PING' }, then: [{ send: 'PONG\n' }] }] };
      await api(a).put(`/v1/tcp/listeners/${created.body.id}/rules`).set(asAlice).send(rules).expect(200);
      const peer = await TcpPeer.connect(created.body.local.port, b.host);
      try {
        await peer.write('PING\n');
        expect((await peer.receive(5)).toString()).toBe('PONG\n');
      } finally {
        peer.socket.destroy();
      }
      const read = await api(c).get(`/v1/tcp/listeners/${created.body.id}/rules`).set(asAlice).expect(200);
      expect(read.body.rules).toEqual([expect.objectContaining({ id: 'ping' })]);
    } finally {
      await api(a).delete(`/v1/tcp/listeners/${created.body.id}?closeConnections=true`).set(asAlice).expect(200);
    }
  });

  it('a forwarded call and a gathered list are logged under one request id on every node (each node used to make its own), and the answer carries it', async () => {
    const created = await api(a).post('/v1/tcp/listeners').set(asAlice).send({ port: 0, placement: { node: b.nodeId } }).expect(201);
    const listenerId = created.body.id as string;
    const forwarded = await api(a).get(`/v1/tcp/listeners/${listenerId}`).set(asAlice).expect(200);
    const id = forwarded.headers['x-request-id'] as string;
    const loggedUnder = (node: ClusterNode, path: string): string[] =>
      node.server
        .output()
        .split('\n')
        .filter((line) => line.includes(`"path":"${path}"`))
        .map((line) => (JSON.parse(line) as { requestId: string }).requestId);
    await pollUntil(async () => (loggedUnder(a, `/v1/tcp/listeners/${listenerId}`).includes(id) && loggedUnder(b, `/v1/tcp/listeners/${listenerId}`).includes(id) ? true : undefined));

    const listed = await api(a).get('/v1/tcp/listeners').set(asAlice).set('x-request-id', 'list-through-a-1').expect(200);
    expect(listed.headers['x-request-id']).toBe('list-through-a-1');
    const unnamed = await api(a).get('/v1/tcp/listeners').query({ limit: 5 }).set(asAlice).expect(200);
    const listId = unnamed.headers['x-request-id'] as string;
    await pollUntil(async () => (nodes.every((node) => loggedUnder(node, '/v1/tcp/listeners').includes(listId)) ? true : undefined));
    await api(a).delete(`/v1/tcp/listeners/${listenerId}`).set(asAlice).expect(200);
  });

  it('an id naming no node of the cluster answers 404 like any unknown id', async () => {
    const response = await api(a).get('/v1/tcp/connections/tc_zzzzzz_000001a1b2c3d4e5').set(asAlice).expect(404);
    expect(response.body.code).toBe('SOCKET_NOT_FOUND');
  });
});
