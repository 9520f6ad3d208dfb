import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ERROR_CATALOG } from '../src/common/error-catalog';
import { INTEGER_SETTINGS, TEXT_SETTINGS } from '../src/config/app-config';

const ROOT = join(__dirname, '..');
const read = (page: string): string => readFileSync(join(ROOT, page), 'utf8');
/** The README and the reference pages it links to. */
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).flatMap((file) => (file.endsWith('.md') ? [`docs/${file}`] : []))];

/** The rows of the markdown table that follows `heading` in `markdown`, as arrays of cells. */
function tableAfter(markdown: string, heading: string): string[][] {
  const at = markdown.indexOf(heading);
  if (at < 0) throw new Error(`no heading ${heading}`);
  const lines = markdown.slice(at).split('\n');
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

/** The bodies of the fenced code blocks of one language. */
function codeBlocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((match) => match[1]);
}

/**
 * Type-checks snippets with the repository's compiler settings, each as a module of its own at
 * the repository root (so `./clients/typescript` resolves as it does for a reader in a checkout).
 */
function typeErrors(snippets: ReadonlyMap<string, string>): string[] {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const compilerOptions: ts.CompilerOptions = { ...options, noEmit: true, types: ['node'], moduleDetection: ts.ModuleDetectionKind.Force };
  const host = ts.createCompilerHost(compilerOptions);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    const snippet = snippets.get(fileName);
    return snippet === undefined ? getSourceFile.call(host, fileName, languageVersion, ...rest) : ts.createSourceFile(fileName, snippet, languageVersion, true);
  };
  host.fileExists = (fileName) => snippets.has(fileName) || fileExists.call(host, fileName);
  host.readFile = (fileName) => snippets.get(fileName) ?? readFile.call(host, fileName);
  const program = ts.createProgram([...snippets.keys()], compilerOptions, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const where = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start) : undefined;
    const name = diagnostic.file ? diagnostic.file.fileName.slice(ROOT.length + 1) : '';
    return `${name}${where ? `:${where.line + 1}` : ''}: TS${diagnostic.code} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
  });
}

describe('README.md and docs/', () => {
  it('docs/errors.md lists every error code of the catalog with its status and title, in order', () => {
    const rows = tableAfter(read('docs/errors.md'), '# Errors');
    expect(rows).toEqual(Object.entries(ERROR_CATALOG).map(([code, entry]) => [`\`${code}\``, String(entry.status), entry.title]));
  });

  it('docs/configuration.md documents every setting with its default and meaning, and no other', () => {
    const table = tableAfter(read('docs/configuration.md'), '# Configuration');
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

  it('has TypeScript snippets that compile as shown, under the repository settings', () => {
    const snippets = new Map(
      PAGES.flatMap((page) => codeBlocks(read(page), 'ts').map((code, index): [string, string] => [join(ROOT, `${page.replaceAll('/', '-')}-snippet-${index + 1}.ts`), code])),
    );
    expect([...snippets.keys()].some((name) => name.includes('README.md-'))).toBe(true);
    expect(typeErrors(snippets)).toEqual([]);
  });
});
