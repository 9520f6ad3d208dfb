import { Socket } from 'node:net';
import { createListener, deleteListener } from '../lib/api';
import { BenchContext, Scenario } from '../lib/context';
import { connectMany } from '../lib/peers';
import { Baseline, cpuSeconds, openFileLimit, rssBytes } from '../lib/processes';
import { percentile } from '../lib/report';

/** Handshakes in flight at once: enough to keep the service accepting, few enough for the kernel's accept queue. */
const IN_FLIGHT = 256;
const BACKLOG = 4096;
/** Descriptors kept free for everything else the bench and the service hold. */
const SPARE_DESCRIPTORS = 500;
const PAGE = 100;
/** Connections opened and closed before the timed ones, so both servers accept with optimised code, as a running one does. */
const WARM_UP = 1000;

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface HoldFigures {
  acceptsPerSecond: number;
  /** CPU the server spent per accepted connection: steadier than the rate on a shared machine. */
  cpuMicrosPerAccept: number;
  rssPerConnection: number;
  sockets: Socket[];
}

/** Opens and closes `WARM_UP` connections to `port` once `accepted(WARM_UP)` reports them all. */
async function warmUp(port: number, accepted: (total: number) => Promise<unknown>): Promise<void> {
  const [sockets] = await Promise.all([connectMany(port, WARM_UP, IN_FLIGHT), accepted(WARM_UP)]);
  closeAll(sockets);
  await settle(500);
}

/** Opens `count` connections to `port` and times them until `accepted(count)` reports them all; RSS of `pid` before and after. */
async function hold(pid: number, port: number, count: number, accepted: (total: number) => Promise<unknown>): Promise<HoldFigures> {
  const rssBefore = rssBytes(pid);
  const cpuBefore = cpuSeconds(pid);
  const start = performance.now();
  const [sockets] = await Promise.all([connectMany(port, count, IN_FLIGHT), accepted(count)]);
  const elapsed = performance.now() - start;
  const cpuMicrosPerAccept = ((cpuSeconds(pid) - cpuBefore) * 1e6) / count;
  // Let the accepts' garbage settle, so the growth is what the connections hold.
  await settle(1000);
  return { acceptsPerSecond: count / (elapsed / 1000), cpuMicrosPerAccept, rssPerConnection: (rssBytes(pid) - rssBefore) / count, sockets };
}

function closeAll(sockets: Socket[]): void {
  for (const socket of sockets) socket.destroy();
}

/**
 * Many concurrent inbound connections on one listener: how fast sockplane accepts them, what
 * each costs in memory, and how fast a page of the connection list answers while they are held.
 * The baseline is a raw `net` server holding the same connections. Both run in processes of
 * their own, so their RSS is not the other scenarios', and both first accept and close
 * `WARM_UP` connections (sockplane on a listener of their own, deleted before the timed one).
 */
export const connections: Scenario = {
  name: 'connections',
  async run({ volumes, startService, log }: BenchContext) {
    const count = Math.min(volumes.connections, openFileLimit() - SPARE_DESCRIPTORS);
    if (count < volumes.connections) log(`connections: the descriptor limit allows ${count}, not ${volumes.connections}`);

    // A baseline process of its own too, so its RSS is not what earlier scenarios left behind.
    const baseline = await Baseline.start();
    const raw = await baseline.call('openTcpHolder', { backlog: BACKLOG });
    const rawAccepted = (offset: number) => (total: number) => baseline.call('waitAccepted', { count: offset + total });
    await warmUp(raw.port, rawAccepted(0));
    const rawFigures = await hold(baseline.pid, raw.port, count, rawAccepted(WARM_UP));
    closeAll(rawFigures.sockets);
    await baseline.stop();

    const service = await startService();
    const accepted = (listenerId: string) => (total: number) =>
      service.client.json('GET', `/v1/tcp/listeners/${listenerId}/connections?after=${total - 1}&limit=1&waitMs=60000`);
    const warmListener = await createListener(service.client, { backlog: BACKLOG });
    await warmUp(warmListener.local.port, accepted(warmListener.id));
    await deleteListener(service.client, warmListener.id);
    const listener = await createListener(service.client, { backlog: BACKLOG });
    const figures = await hold(service.pid, listener.local.port, count, accepted(listener.id));
    const pageTimes: number[] = [];
    while (pageTimes.length < 200) {
      let cursor: string | null = null;
      do {
        const query: string = `listenerId=${listener.id}&limit=${PAGE}${cursor ? `&cursor=${cursor}` : ''}`;
        const start = performance.now();
        const page = await service.client.json<{ items: unknown[]; nextCursor: string | null }>('GET', `/v1/tcp/connections?${query}`);
        pageTimes.push(performance.now() - start);
        cursor = page.nextCursor;
      } while (cursor !== null);
    }
    closeAll(figures.sockets);
    await deleteListener(service.client, listener.id);
    await service.stop();

    log(
      `connections: ${count} held; accepts/s sockplane ${figures.acceptsPerSecond.toFixed(0)} (${figures.cpuMicrosPerAccept.toFixed(0)} µs CPU/accept), ` +
        `raw ${rawFigures.acceptsPerSecond.toFixed(0)} (${rawFigures.cpuMicrosPerAccept.toFixed(0)} µs CPU/accept)`,
    );
    const KiB = 1024;
    return [
      {
        scenario: `${count.toLocaleString('en-US')} inbound connections: accept rate`,
        unit: 'accepts/s',
        sockplane: figures.acceptsPerSecond,
        baseline: rawFigures.acceptsPerSecond,
        baselineName: 'raw net server',
        target: { on: 'figure', atLeast: 5000 },
      },
      {
        scenario: `${count.toLocaleString('en-US')} inbound connections: RSS growth per connection`,
        unit: 'KiB',
        sockplane: figures.rssPerConnection / KiB,
        baseline: rawFigures.rssPerConnection / KiB,
        baselineName: 'raw net server',
        target: { on: 'figure', atMost: 10 },
      },
      {
        scenario: `${count.toLocaleString('en-US')} inbound connections: GET list page of ${PAGE}, p50`,
        unit: 'ms',
        sockplane: percentile(pageTimes, 50),
        baseline: null,
        baselineName: '',
        target: { on: 'figure', atMost: 5 },
      },
    ];
  },
};
