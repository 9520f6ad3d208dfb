import { ConfigError, loadConfig } from '../../src/config/app-config';

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
  ])('stops on a bad value, naming the variable: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
