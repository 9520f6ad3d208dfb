import { ConfigError, INTEGER_SETTINGS, loadConfig } from '../../src/config/app-config';

describe('configuration', () => {
  it('names the variable when a value is refused', () => {
    for (const setting of INTEGER_SETTINGS) {
      expect(() => loadConfig({ [setting.variable]: 'many' })).toThrow(new ConfigError(`${setting.variable} must be a whole number, got "many"`));
    }
    expect(() => loadConfig({ SOCKPLANE_LOG_LEVEL: 'loud' })).toThrow(/^SOCKPLANE_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/);
  });

  it('reads the log level case-insensitively and defaults to info', () => {
    expect(loadConfig({}).logLevel).toBe('info');
    expect(loadConfig({ SOCKPLANE_LOG_LEVEL: 'DEBUG' }).logLevel).toBe('debug');
  });
});
