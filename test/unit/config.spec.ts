import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, INTEGER_SETTINGS, TEXT_SETTINGS, loadConfig, settingSlices } from '../../src/config/app-config';

describe('loadConfig', () => {
  it('has safe defaults: loopback, port 3000', () => {
    expect(loadConfig({})).toMatchObject({ host: '127.0.0.1', port: 3000, maxWaitMs: 60000 });
  });

  it('reads variables by their names', () => {
    expect(loadConfig({ HOST: '::1', PORT: '8080', SOCKPLANE_MAX_BUFFERED_BYTES: '65536' })).toMatchObject({
      host: '::1',
      port: 8080,
      maxBufferedBytes: 65536,
    });
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT must be a whole number/],
    [{ PORT: '70000' }, /PORT must be between 0 and 65535/],
    [{ PORT: '-1' }, /PORT must be a whole number/],
    [{ SOCKPLANE_MAX_WAIT_MS: '1.5' }, /SOCKPLANE_MAX_WAIT_MS must be a whole number/],
    [{ SOCKPLANE_MAX_BUFFERED_BYTES: '10' }, /SOCKPLANE_MAX_BUFFERED_BYTES must be between/],
    [{ HOST: 'example.com' }, /HOST must be an IP address/],
    [{ SOCKPLANE_TLS_LEAF_KEY_TYPE: 'dsa-1024' }, /SOCKPLANE_TLS_LEAF_KEY_TYPE must be one of ec-p256, rsa-2048/],
    [{ SOCKPLANE_TLS_ALLOW_UPLOADS: 'yes' }, /SOCKPLANE_TLS_ALLOW_UPLOADS must be true or false/],
    [{ SOCKPLANE_TLS_CA_KEY_FILE: '/etc/ca.key' }, /name both SOCKPLANE_TLS_CA_CERT_FILE and SOCKPLANE_TLS_CA_KEY_FILE, or neither/],
  ])('stops on a bad value, naming the variable: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('settings', () => {
  it('lists every variable once, each with a default and a meaning', () => {
    const all = [...INTEGER_SETTINGS, ...TEXT_SETTINGS];
    expect(new Set(all.map((s) => s.variable)).size).toBe(all.length);
    for (const setting of all) expect(setting.meaning.length).toBeGreaterThan(10);
  });

  it('gives modules their slice and nothing else', () => {
    const slices = settingSlices(loadConfig({ SOCKPLANE_EVENT_QUEUE: '5', SOCKPLANE_MAX_WAIT_MS: '7' }));
    expect({ ...slices.events }).toEqual({
      eventHistory: 10_000,
      eventHistoryPayloadBytes: 8 * 1024 * 1024,
      eventPayloadMaxBytes: 65_536,
      eventQueue: 5,
      eventHeartbeatMs: 15_000,
      maxEventStreams: 100,
    });
    expect({ ...slices.requests }).toEqual({ maxWaitMs: 7, maxReadBytes: 16 * 1024 * 1024, idleTimeoutMs: 0, maxBufferedBytes: 4 * 1024 * 1024 });
    expect(Object.keys(slices.auth)).toEqual(['apiKeys']);
    expect({ ...slices.tls }).toMatchObject({ tlsCaCertFile: null, tlsCaKeyFile: null, tlsAllowUploads: true, tlsLeafKeyType: 'ec-p256', tlsMaxPemBytes: 65_536 });
  });
});

describe('loadConfig: security settings', () => {
  const KEY = 'correct-horse-battery';

  it('has safe defaults: no keys on loopback, loopback binds, ports 1024-65535', () => {
    const config = loadConfig({});
    expect(config.apiKeys).toEqual([]);
    expect(config.bindHosts.map((h) => (h === 'localhost' ? h : h.text))).toEqual(['127.0.0.0/8', '::1', 'localhost']);
    expect(config.bindPorts).toEqual([{ from: 1024, to: 65535 }]);
    expect(config).toMatchObject({ policyAllow: [], policyDeny: [], allowedHosts: [], corsOrigins: [], idleTimeoutMs: 0 });
  });

  it('reads keys from the variable and the file, with names and the admin scope', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockplane-keys-'));
    const file = join(dir, 'keys');
    writeFileSync(file, `# the operators\nops:${KEY}-ops:admin\n\n${KEY}-anonymous\n`);
    const config = loadConfig({ SOCKPLANE_API_KEYS: `alice:${KEY}`, SOCKPLANE_API_KEYS_FILE: file });
    expect(config.apiKeys.map((k) => ({ name: k.name, admin: k.admin }))).toEqual([
      { name: 'alice', admin: false },
      { name: 'ops', admin: true },
      { name: expect.stringMatching(/^key-[0-9a-f]{12}$/), admin: false },
    ]);
  });

  it.each([
    ['0.0.0.0', /SOCKPLANE_API_KEYS.*must hold a key when HOST is 0\.0\.0\.0/],
    ['192.0.2.10', /SOCKPLANE_ALLOW_UNAUTHENTICATED=true/],
    ['::', /when HOST is ::/],
  ])('refuses to serve %s without a key', (host, message) => {
    expect(() => loadConfig({ HOST: host })).toThrow(message);
    expect(loadConfig({ HOST: host, SOCKPLANE_API_KEYS: KEY }).apiKeys).toHaveLength(1);
    expect(loadConfig({ HOST: host, SOCKPLANE_ALLOW_UNAUTHENTICATED: 'true' }).apiKeys).toEqual([]);
  });

  it.each(['127.0.0.1', '127.8.9.10', '::1', 'localhost', '::ffff:127.0.0.1'])('serves loopback %s without a key', (host) => {
    expect(loadConfig({ HOST: host }).host).toBe(host);
  });

  it.each([
    [{ SOCKPLANE_API_KEYS: 'short' }, /SOCKPLANE_API_KEYS: key 1 has a secret shorter than 16/],
    [{ SOCKPLANE_API_KEYS: `alice:${KEY}:root` }, /SOCKPLANE_API_KEYS: key 1 has scope "root"/],
    [{ SOCKPLANE_API_KEYS: `a:${KEY},a:${KEY}x` }, /SOCKPLANE_API_KEYS: two keys are named "a"/],
    [{ SOCKPLANE_API_KEYS: `a:${KEY},b:${KEY}` }, /SOCKPLANE_API_KEYS: key "b" repeats the secret/],
    [{ SOCKPLANE_API_KEYS: `bad name:${KEY}` }, /SOCKPLANE_API_KEYS: key 1 has a bad name/],
    [{ SOCKPLANE_API_KEYS_FILE: '/nonexistent/keys' }, /SOCKPLANE_API_KEYS_FILE: cannot read the file \(ENOENT\)/],
    [{ SOCKPLANE_ALLOW_UNAUTHENTICATED: 'yes' }, /SOCKPLANE_ALLOW_UNAUTHENTICATED must be true or false/],
    [{ SOCKPLANE_POLICY_DENY: '10.0.0.0/8,10.0.0.1/8' }, /SOCKPLANE_POLICY_DENY: "10.0.0.1\/8" has bits set/],
    [{ SOCKPLANE_POLICY_ALLOW: 'example.com' }, /SOCKPLANE_POLICY_ALLOW: "example.com" does not start with an IP address/],
    [{ SOCKPLANE_BIND_HOSTS: '127.0.0.1,*' }, /SOCKPLANE_BIND_HOSTS: "\*"/],
    [{ SOCKPLANE_BIND_PORTS: '80-70' }, /SOCKPLANE_BIND_PORTS: .*low to high/],
    [{ SOCKPLANE_ALLOWED_HOSTS: 'evil.example:80' }, /SOCKPLANE_ALLOWED_HOSTS: "evil.example:80" is not a host name/],
    [{ SOCKPLANE_CORS_ORIGINS: 'https://tool.example/app' }, /SOCKPLANE_CORS_ORIGINS: "https:\/\/tool.example\/app" is not an origin/],
    [{ SOCKPLANE_CORS_ORIGINS: '*' }, /SOCKPLANE_CORS_ORIGINS: "\*" is not an origin/],
    [{ SOCKPLANE_MAX_LONG_POLLS: '0' }, /SOCKPLANE_MAX_LONG_POLLS must be between 1/],
    [{ SOCKPLANE_IDLE_TIMEOUT_MS: 'soon' }, /SOCKPLANE_IDLE_TIMEOUT_MS must be a whole number/],
  ])('stops on a bad security setting, naming the variable: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('keeps no secret in the configuration, only digests', () => {
    expect(JSON.stringify(loadConfig({ SOCKPLANE_API_KEYS: `alice:${KEY}` }))).not.toContain(KEY);
  });
});

describe('loadConfig › cluster settings', () => {
  const secret = 'a-cluster-secret-of-16+';

  it('is a single node without SOCKPLANE_CLUSTER_REDIS_URL', () => {
    expect(loadConfig({})).toMatchObject({ clusterRedisUrl: null, clusterApiUrl: null, clusterSocketHost: null, clusterHeartbeatMs: 2000 });
  });

  it('reads the Redis URL, the secret, the advertised API URL and socket host', () => {
    const config = loadConfig({
      SOCKPLANE_CLUSTER_REDIS_URL: 'redis://redis:6379/0',
      SOCKPLANE_CLUSTER_SECRET: secret,
      SOCKPLANE_CLUSTER_API_URL: 'http://10.0.0.2:3000/',
      SOCKPLANE_CLUSTER_SOCKET_HOST: '10.0.0.2',
    });
    expect(config).toMatchObject({ clusterRedisUrl: 'redis://redis:6379/0', clusterSecret: secret, clusterApiUrl: 'http://10.0.0.2:3000', clusterSocketHost: '10.0.0.2' });
  });

  it.each([
    [{ SOCKPLANE_CLUSTER_REDIS_URL: 'redis://redis:6379' }, /SOCKPLANE_CLUSTER_SECRET must be 16 to 512 printable characters/],
    [{ SOCKPLANE_CLUSTER_REDIS_URL: 'redis://redis:6379', SOCKPLANE_CLUSTER_SECRET: 'short' }, /SOCKPLANE_CLUSTER_SECRET must be 16/],
    [{ SOCKPLANE_CLUSTER_REDIS_URL: 'http://redis:6379', SOCKPLANE_CLUSTER_SECRET: secret }, /SOCKPLANE_CLUSTER_REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/],
    [{ SOCKPLANE_CLUSTER_REDIS_URL: 'not a url', SOCKPLANE_CLUSTER_SECRET: secret }, /SOCKPLANE_CLUSTER_REDIS_URL must be a redis:\/\//],
    [{ SOCKPLANE_CLUSTER_API_URL: 'http://10.0.0.2:3000/v1' }, /SOCKPLANE_CLUSTER_API_URL must be an http:\/\/ URL without path or query/],
    [{ SOCKPLANE_CLUSTER_HEARTBEAT_MS: '10' }, /SOCKPLANE_CLUSTER_HEARTBEAT_MS must be between 100 and 60000/],
  ])('stops on a bad cluster setting: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
