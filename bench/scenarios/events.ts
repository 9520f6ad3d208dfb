import { Socket } from 'node:net';
import { acceptedConnection, createListener, deleteListener } from '../lib/api';
import { BenchContext, Scenario } from '../lib/context';
import { EventStreamReader } from '../lib/event-stream';
import { HttpClient } from '../lib/http';
import { connectTo } from '../lib/peers';
import { LOOPBACK, onOneCpu } from '../lib/processes';
import { ResultRow, percentile } from '../lib/report';
import { RoundTrip, timeSeries } from './round-trip';

const PAYLOAD = Buffer.alloc(64, 0x65);

/** The peer writes 64 bytes; done when the stream reports them. One write at a time, so each is one chunk and one event. */
function writeToEvent(peer: Socket, stream: EventStreamReader): RoundTrip {
  return async () => {
    const arrived = stream.next('connection.data');
    peer.write(PAYLOAD);
    await arrived;
  };
}

/**
 * How soon an open event stream tells a client that a peer sent something: a peer writes 64
 * bytes into an accepted connection and the clock stops when the stream's `connection.data`
 * message arrives. Against the same through the bare relay, whose event stream writes one
 * message per received chunk and nothing else (no history, filters, queues or payload
 * handling).
 */
export const eventDelivery: Scenario = {
  name: 'events',
  async run({ service, baseline, volumes, log }: BenchContext) {
    const listener = await createListener(service.client);
    const peer = await connectTo(listener.local.port);
    const connection = await acceptedConnection(service.client, listener.id, 1);
    const stream = await EventStreamReader.open(service.client, `/v1/events?resourceId=${connection.id}&type=connection.data`);

    const relay = new HttpClient(LOOPBACK, baseline.httpPort);
    const { port } = await relay.json<{ port: number }>('POST', '/relay/listeners', { maxHeldBytes: 16 * 1024 * 1024 }, 201);
    const relayPeer = await connectTo(port);
    const relayStream = await EventStreamReader.open(relay, '/relay/events');

    // On one CPU, alternating every write. Across this VM's two vCPUs each hop that wakes a
    // process on the other one adds about 0.045 ms, and where the scheduler puts them is chance:
    // two identical bare relays measured 0.025 and 0.064 ms side by side, and sockplane 0.032 or
    // 0.083 from run to run. On one CPU both are steady (bench/README.md).
    const { pinned, result } = await onOneCpu([process.pid, service.pid, baseline.pid], () =>
      timeSeries(volumes.roundTrips, [writeToEvent(peer, stream), writeToEvent(relayPeer, relayStream)], 1),
    );
    const [sockplane, bare] = result;
    if (!pinned) log('events: taskset is missing or refused, so the latency was measured across CPUs');
    const gaps = stream.count('gap');

    stream.close();
    relayStream.close();
    peer.destroy();
    relayPeer.destroy();
    await relay.json('DELETE', '/relay');
    relay.close();
    await deleteListener(service.client, listener.id);
    if (gaps > 0) throw new Error(`events: the stream reported ${gaps} gaps`);

    const rows: ResultRow[] = [50, 99].map((p) => ({
      scenario: `peer writes 64 B → event stream reports it, p${p}`,
      unit: 'ms',
      sockplane: percentile(sockplane, p),
      baseline: percentile(bare, p),
      baselineName: 'bare relay event stream, same write',
      target: null,
    }));
    log(`events: sockplane p50 ${rows[0].sockplane.toFixed(3)} ms, p99 ${rows[1].sockplane.toFixed(3)} ms; bare relay p50 ${rows[0].baseline?.toFixed(3)} ms`);
    return rows;
  },
};
