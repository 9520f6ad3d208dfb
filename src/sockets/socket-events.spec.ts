import { compileRuleSet } from './rules/rule-set';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { Socket, connect } from 'node:net';
import { AccessPolicy } from './destination';
import { FRAMING_PRESETS } from './framing/framing';
import { CLUSTER_EVENT_TYPES, SOCKET_EVENTS, SOCKET_EVENT_TYPES, SocketEvent, SocketEventBus } from './socket-events';
import { SocketRegistry } from './socket-registry';
import { FaultEngine } from './faults/fault-engine';
import { connect as tlsConnect } from 'node:tls';
import { InstanceCa } from './tls/instance-ca';
import { LeafMinter } from './tls/leaf-minter';
import { TlsServer } from './tls/tls-session';

const ALLOW_ALL: AccessPolicy = { judgeDestination: () => ({ allowed: true }), judgeBind: () => ({ allowed: true }) };

/** A value's type as a field schema names it. */
function typeOf(value: unknown): string {
  if (value === null) return 'null';
  return Number.isInteger(value) ? 'integer' : typeof value;
}

describe('SOCKET_EVENTS', () => {
  it('describes exactly the data the runtime publishes, field by field, for every event type', async () => {
    const registry = new SocketRegistry(
      {
        maxBufferedBytes: 8,
        maxPendingWriteBytes: 1024,
        closeLingerMs: 100,
        closedRetentionMs: 60_000,
        maxSockets: 3,
        maxSocketsPerKey: 0,
        maxTotalBufferedBytes: 1 << 20,
        udpMaxDatagrams: 1,
        udpMaxBufferedBytes: 1024,
      },
      ALLOW_ALL,
    );
    const events: SocketEvent[] = [];
    registry.events.subscribe((event) => events.push(event));
    const peers: Socket[] = [];
    try {
      const listener = await registry.createListener({ host: '127.0.0.1', port: 0, ipv6Only: false, backlog: 16, maxConnections: 0, mode: 'buffer', noDelay: true, keepAlive: false, keepAliveInitialDelayMs: 0, idleTimeoutMs: 0, tls: null, labels: {}, owner: null });
      const connection = await registry.connect({ host: '127.0.0.1', port: listener.local!.port, family: 0, timeoutMs: 5000, mode: 'buffer', noDelay: true, keepAlive: false, keepAliveInitialDelayMs: 0, idleTimeoutMs: 0, tls: null, labels: {}, owner: null });
      const [inbound] = await registry.waitForAccepted(listener.id, 0, 1, 5000);
      // Past the buffer cap of 8 bytes: paused, then resumed by the release.
      await connection.send([Buffer.from('0123456789')], true);
      await inbound.read({ maxBytes: 100, minBytes: 10, waitMs: 5000 });
      inbound.releaseUpTo(10);
      await inbound.read({ maxBytes: 100, minBytes: 100, waitMs: 5000 });
      // A frame, then a line over maxFrameBytes: a framing error.
      connection.setFraming({ framing: { ...FRAMING_PRESETS.lines, maxFrameBytes: 4 }, preset: null, onError: 'record' });
      const faulted = new Promise<void>((resolve) => registry.events.subscribe((event) => event.type === 'connection.framing-error' && resolve()));
      await inbound.send([Buffer.from('ab\nabcdef')], false);
      await faulted;
      // The registry holds three sockets, its limit: the next arrival is dropped.
      const extra = connect({ port: listener.local!.port, host: '127.0.0.1' });
      peers.push(extra);
      await new Promise((resolve) => extra.on('error', () => undefined).once('close', resolve));
      await registry.closeConnection(inbound.id, 'graceful');
      await registry.closeConnection(connection.id, 'graceful');

      // A rule that matches the first datagram: rule.matched.
      const rules = compileRuleSet({ rules: [{ match: { equals: 'kept' }, then: [{ keep: true }] }] }, 'udp', { maxRules: 1, maxPatternBytes: 16, maxReplyBytes: 16 });
      const udp = await registry.createUdpSocket({ type: 'udp4', host: '127.0.0.1', port: 0, mode: 'buffer', reuseAddr: false, ipv6Only: false, broadcast: false, ttl: 64, recvBufferSize: null, sendBufferSize: null, multicast: null, connectTo: null, labels: {}, owner: null, rules });
      const sender = createSocket('udp4');
      const arrived = new Promise<void>((resolve) => registry.events.subscribe((event) => event.type === 'udp.dropped' && resolve()));
      for (const text of ['kept', 'dropped']) sender.send(text, udp.local!.port, '127.0.0.1');
      await arrived;
      sender.close();
      await once(sender, 'close');
      await registry.closeUdpSocket(udp.id);
      await registry.closeListener(listener.id, false);

      // A fault on a listener: applied to what it accepts, triggered after a time, expired.
      const faults = new FaultEngine(registry);
      const faulty = await registry.createListener({ host: '127.0.0.1', port: 0, ipv6Only: false, backlog: 16, maxConnections: 0, mode: 'echo', noDelay: true, keepAlive: false, keepAliveInitialDelayMs: 0, idleTimeoutMs: 0, tls: null, labels: {}, owner: null });
      // It expires a second after it was made: long enough for a busy machine to accept the client
      // and fire the trigger first (at 20 ms, the fault once expired before either, and the test
      // missed fault.applied and fault.triggered).
      faults.create({ name: null, target: faulty.id, type: 'latency', direction: 'both', attributes: { ms: 1, jitterMs: 0 }, select: { remoteCidr: null, probability: 1, seed: 1 }, trigger: { afterBytes: null, afterMs: 1, onFrame: null }, expiresAfterMs: 1000 }, null);
      const triggered = new Promise<void>((resolve) => registry.events.subscribe((event) => event.type === 'fault.triggered' && resolve()));
      const expired = new Promise<void>((resolve) => registry.events.subscribe((event) => event.type === 'fault.expired' && resolve()));
      const client = connect({ port: faulty.local!.port, host: '127.0.0.1' });
      peers.push(client);
      await triggered;
      await expired;
      faults.closeAll();
      await registry.closeListener(faulty.id, true);

      // A TLS listener: one client completes the handshake, a plain one fails it.
      const ca = await InstanceCa.generate();
      const tlsServer = await TlsServer.create(
        { certificateId: null, credentials: null, alpn: [], minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', requestClientCert: false, clientCa: null, handshakeTimeoutMs: 5000 },
        new LeafMinter(ca, { cacheSize: 4, validityDays: 1, keyType: 'ec-p256' }),
        ca.certificatePem,
      );
      const tlsListener = await registry.createListener({ host: '127.0.0.1', port: 0, ipv6Only: false, backlog: 16, maxConnections: 0, mode: 'echo', noDelay: true, keepAlive: false, keepAliveInitialDelayMs: 0, idleTimeoutMs: 0, tls: { mode: 'implicit', server: tlsServer }, labels: {}, owner: null });
      const outcomes = new Promise<void>((resolve) => {
        const seen = new Set<string>();
        registry.events.subscribe((event) => {
          if (event.type === 'tls.established' || event.type === 'tls.failed') seen.add(event.type);
          if (seen.size === 2) resolve();
        });
      });
      const good = tlsConnect({ host: '127.0.0.1', port: tlsListener.local!.port, ca: ca.certificatePem, servername: 'events.example.test' });
      peers.push(good);
      await once(good, 'secureConnect');
      const plain = connect({ port: tlsListener.local!.port, host: '127.0.0.1' });
      peers.push(plain);
      plain.on('error', () => undefined).end('not a ClientHello');
      await outcomes;

    } finally {
      peers.forEach((peer) => peer.destroy());
      await registry.closeAll();
    }

    expect(new Set(events.map((event) => event.type))).toEqual(new Set(SOCKET_EVENT_TYPES.filter((type) => !CLUSTER_EVENT_TYPES.includes(type))));
    for (const event of events) {
      const fields: Record<string, { schema: { type: string; nullable?: true; enum?: readonly string[] } }> = SOCKET_EVENTS[event.type].data;
      expect({ type: event.type, fields: Object.keys(event.data).sort() }).toEqual({ type: event.type, fields: Object.keys(fields).sort() });
      for (const [name, value] of Object.entries(event.data)) {
        const { schema } = fields[name];
        const allowed = schema.nullable ? [schema.type, 'null'] : [schema.type];
        const mismatch = allowed.includes(typeOf(value)) && (!schema.enum || value === null || schema.enum.includes(String(value))) ? null : `${event.type} ${name}: ${JSON.stringify(value)}`;
        expect(mismatch).toBeNull();
      }
    }
  });
});

describe('SocketEventBus', () => {
  const source = { id: 'tc_1', kind: 'tcp-connection', labels: { team: 'a' }, owner: null } as const;

  it('gives each listener the events of its types, in the order they subscribed, until it unsubscribes', () => {
    const bus = new SocketEventBus();
    const seen: string[] = [];
    const stopAll = bus.subscribe((event) => seen.push(`all ${event.type}`));
    const stopData = bus.subscribe((event) => seen.push(`data ${event.data.byteCount}`), ['connection.data']);
    bus.publish(source, 'connection.data', { from: 0, to: 3, byteCount: 3 });
    bus.publish(source, 'connection.peer-ended', { endOffset: 3 });
    stopAll();
    bus.publish(source, 'connection.data', { from: 3, to: 5, byteCount: 2 });
    stopData();
    bus.publish(source, 'connection.data', { from: 5, to: 6, byteCount: 1 });
    expect(seen).toEqual(['all connection.data', 'data 3', 'all connection.peer-ended', 'data 2']);
  });

  it('runs a publish in progress to its end when a listener unsubscribes another, and lets a new one in from the next', () => {
    const bus = new SocketEventBus();
    const seen: string[] = [];
    let stopSecond = (): void => undefined;
    bus.subscribe(() => {
      seen.push('first');
      stopSecond();
      bus.subscribe(() => seen.push('third'), ['connection.peer-ended']);
    }, ['connection.peer-ended']);
    stopSecond = bus.subscribe(() => seen.push('second'), ['connection.peer-ended']);
    bus.publish(source, 'connection.peer-ended', { endOffset: 0 });
    expect(seen).toEqual(['first', 'second']);
    bus.publish(source, 'connection.peer-ended', { endOffset: 0 });
    expect(seen).toEqual(['first', 'second', 'first', 'third']);
  });
});
