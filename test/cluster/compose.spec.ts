import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { INTEGER_SETTINGS, TEXT_SETTINGS, loadConfig } from '../../src/config/app-config';

const DEPLOY = join(__dirname, '..', '..', 'deploy');

interface Service {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  networks?: Record<string, { ipv4_address: string }>;
}

/** `${NAME:?message}` and `${NAME:-default}` as compose fills them in: a value from `given`, else the default. */
function interpolate(value: string, given: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::[?-]([^}]*))?\}/g, (_all, name: string, fallback: string | undefined) => given[name] ?? fallback ?? '');
}

describe('deploy/compose.yaml', () => {
  const compose = parse(readFileSync(join(DEPLOY, 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
  const nginx = readFileSync(join(DEPLOY, 'nginx.conf'), 'utf8');
  const nodes = Object.entries(compose.services).filter(([, service]) => service.environment?.SOCKPLANE_CLUSTER_REDIS_URL !== undefined);
  const operator = { SOCKPLANE_API_KEYS: 'ops:an-operator-key-0123456789', SOCKPLANE_CLUSTER_SECRET: 'a-cluster-secret-0123456789' };
  const known = new Set([...INTEGER_SETTINGS, ...TEXT_SETTINGS].map((setting) => setting.variable));

  it('runs three nodes, Redis and a load balancer', () => {
    expect(nodes).toHaveLength(3);
    expect(compose.services.redis.image).toMatch(/^redis:7/);
    expect(compose.services.lb.image).toMatch(/^nginx:/);
    expect(compose.services.lb.volumes).toContain('./nginx.conf:/etc/nginx/nginx.conf:ro');
  });

  it('gives every node settings the service knows and accepts, in one cluster on the compose Redis', () => {
    for (const [name, service] of nodes) {
      const environment = Object.fromEntries(Object.entries(service.environment ?? {}).map(([variable, value]) => [variable, interpolate(String(value), operator)]));
      expect({ name, unknown: Object.keys(environment).filter((variable) => !known.has(variable)) }).toEqual({ name, unknown: [] });
      const config = loadConfig(environment);
      const address = service.networks?.sockplane.ipv4_address;
      expect(config).toMatchObject({ clusterRedisUrl: 'redis://redis:6379/0', clusterApiUrl: `http://${address}:${config.port}`, clusterSocketHost: address, host: '0.0.0.0' });
      expect(config.clusterSecret).toBe(operator.SOCKPLANE_CLUSTER_SECRET);
    }
  });

  it('puts every node, at its API URL, behind nginx, with streams unbuffered and upgrades passed on', () => {
    const upstreams = [...nginx.matchAll(/^\s*server (\S+):(\d+)/gm)].map(([, host, port]) => `http://${host}:${port}`);
    const apiUrls = nodes.map(([, service]) => service.environment?.SOCKPLANE_CLUSTER_API_URL);
    expect(upstreams.sort()).toEqual(apiUrls.sort());
    expect(nginx).toMatch(/proxy_buffering off;/);
    expect(nginx).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(nginx).toMatch(/proxy_set_header sockplane-cluster-secret "";/);
    const readTimeout = Number(/proxy_read_timeout (\d+)s;/.exec(nginx)?.[1]) * 1000;
    const config = loadConfig({});
    expect(readTimeout).toBeGreaterThan(Math.max(config.maxWaitMs, config.eventHeartbeatMs));
  });
});
