/**
 * `npm run bench [-- --quick] [-- --only=name,name] [-- --profile]`: starts the built service
 * and the baselines on loopback, runs each scenario and prints one table. See bench/README.md.
 */
import { mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { FULL, QUICK, Scenario } from './lib/context';
import { Baseline, REPO_ROOT, Service, ensureBuilt, startService } from './lib/processes';
import { ResultRow, renderTable, targetMet } from './lib/report';
import { cluster } from './scenarios/cluster';
import { attach } from './scenarios/attach';
import { connections } from './scenarios/connections';
import { eventDelivery } from './scenarios/events';
import { frames } from './scenarios/frames';
import { listenerChurn } from './scenarios/listener-churn';
import { roundTrip } from './scenarios/round-trip';
import { rules } from './scenarios/rules';
import { sendRate } from './scenarios/send-rate';
import { MAX_BUFFERED_BYTES, streams } from './scenarios/streams';
import { tls } from './scenarios/tls';
import { proxy } from './scenarios/proxy';
import { udpReceive } from './scenarios/udp-receive';

const SCENARIOS: Scenario[] = [sendRate, roundTrip, eventDelivery, streams, connections, listenerChurn, udpReceive, frames, tls, proxy, attach, rules, cluster];

/**
 * The service's settings for the bench. The defaults suit a shared control plane; a bulk
 * transfer wants more bytes held per connection and bigger reads, and the connection scenario
 * needs room for its sockets. bench/README.md lists them.
 */
const SERVICE_ENV: Record<string, string> = {
  SOCKPLANE_MAX_BUFFERED_BYTES: String(MAX_BUFFERED_BYTES),
  SOCKPLANE_MAX_READ_BYTES: String(16 * 1024 * 1024),
  SOCKPLANE_BODY_LIMIT_BYTES: String(16 * 1024 * 1024),
  SOCKPLANE_MAX_PENDING_WRITE_BYTES: String(64 * 1024 * 1024),
  SOCKPLANE_MAX_SOCKETS: '20000',
};

function parseArgs(argv: string[]): { quick: boolean; only: Set<string> | null; profile: boolean } {
  const only = argv.find((arg) => arg.startsWith('--only='));
  for (const arg of argv) {
    if (arg !== '--quick' && arg !== '--profile' && !arg.startsWith('--only=')) throw new Error(`unknown argument ${arg} (--quick, --only=a,b, --profile)`);
  }
  return { quick: argv.includes('--quick'), only: only ? new Set(only.slice('--only='.length).split(',')) : null, profile: argv.includes('--profile') };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (line: string): void => console.error(`[bench] ${line}`);
  const scenarios = SCENARIOS.filter((s) => !args.only || args.only.has(s.name));
  if (scenarios.length === 0) throw new Error(`no scenario matches --only; they are ${SCENARIOS.map((s) => s.name).join(', ')}`);
  ensureBuilt(log);

  const profileDir = join(REPO_ROOT, 'bench', 'profiles');
  if (args.profile) mkdirSync(profileDir, { recursive: true });
  // --cpu-prof writes the profile when the service exits (it does on SIGTERM, through Nest's shutdown hooks).
  const nodeArgs = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const launch = (): Promise<Service> => startService({ env: SERVICE_ENV, nodeArgs });

  // One service for the whole run, carrying what earlier scenarios left as a running service
  // does; a fresh baseline process for each scenario, so each measures the machine's limit and
  // not what the send load before it left in that process's heap (bench/README.md).
  const service = await launch();
  const rows: ResultRow[] = [];
  try {
    for (const scenario of scenarios) {
      const start = performance.now();
      log(`${scenario.name}…`);
      const baseline = await Baseline.start();
      try {
        rows.push(...(await scenario.run({ volumes: args.quick ? QUICK : FULL, service, baseline, startService: launch, log })));
      } finally {
        await baseline.stop();
      }
      log(`${scenario.name} done in ${((performance.now() - start) / 1000).toFixed(1)} s`);
    }
  } finally {
    await service.stop();
  }

  const cpu = cpus();
  console.log(
    `sockplane bench${args.quick ? ' (--quick)' : ''} — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ` +
      `${cpu.length} × ${cpu[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB\n`,
  );
  console.log(renderTable(rows));
  if (args.profile) console.log(`\nCPU profiles of the service: ${profileDir}`);
  const missed = rows.filter((row) => targetMet(row) === false);
  if (missed.length > 0) console.log(`\n${missed.length} target(s) missed: ${missed.map((row) => row.scenario).join('; ')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
