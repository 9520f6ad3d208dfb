import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CATALOG } from '../src/common/error-catalog';
import { INTEGER_SETTINGS, TEXT_SETTINGS } from '../src/config/app-config';

const README = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

/** The rows of the markdown table that follows `heading`, as arrays of cells. */
function tableAfter(heading: string): string[][] {
  const section = README.slice(README.indexOf(heading));
  const lines = section.split('\n');
  const start = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

describe('README.md', () => {
  it('lists every error code of the catalog with its status and title, in order', () => {
    const rows = tableAfter('## Errors');
    expect(rows).toEqual(Object.entries(ERROR_CATALOG).map(([code, entry]) => [`\`${code}\``, String(entry.status), entry.title]));
  });

  it('documents every setting with its default and meaning, and no other', () => {
    const table = tableAfter('## Configuration');
    const rows = new Map(table.map(([variable, ...rest]) => [variable, rest]));
    expect(table.map(([variable]) => variable).sort()).toEqual([...INTEGER_SETTINGS, ...TEXT_SETTINGS].map((s) => `\`${s.variable}\``).sort());
    for (const setting of [...INTEGER_SETTINGS, ...TEXT_SETTINGS]) {
      const shownDefault = setting.default === '' ? '(none)' : `\`${setting.default}\``;
      expect({ variable: setting.variable, row: rows.get(`\`${setting.variable}\``) }).toEqual({
        variable: setting.variable,
        row: [shownDefault, setting.meaning],
      });
    }
  });
});
