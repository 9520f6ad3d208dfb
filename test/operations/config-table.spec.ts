import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, INTEGER_SETTINGS, SETTINGS, loadConfig } from '../../src/config/app-config';

/** The rows of the README's one configuration table: variable, default, meaning. */
function readmeSettings(): { variable: string; default: string; meaning: string }[] {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Configuration'));
  if (!section) throw new Error('README has no "## Configuration" section');
  return section
    .split('\n')
    .filter((line) => /^\| `/.test(line))
    .map((line) => {
      const [variable, value, meaning] = line.slice(1, -1).split(' | ').map((cell) => cell.trim());
      return { variable: variable.replaceAll('`', ''), default: value.replaceAll('`', ''), meaning };
    });
}

describe('configuration', () => {
  it('README › the configuration table lists every setting with its default and meaning, in order', () => {
    expect(readmeSettings()).toEqual(SETTINGS);
    expect(SETTINGS.map((s) => s.variable)).toEqual(['HOST', ...INTEGER_SETTINGS.map((s) => s.variable), 'SOCKPLANE_LOG_LEVEL']);
  });

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
