/** One sample of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
}

export interface Exposition {
  families: Map<string, Family>;
  samples: Sample[];
}

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
const SAMPLE_LINE = new RegExp(`^(${METRIC_NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?\\})? (\\S+)$`);
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g;
const COMMENT_LINE = new RegExp(`^# (HELP|TYPE) (${METRIC_NAME}) (.*)$`);
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** Sample names a family of each type may have, from its family name. */
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

/**
 * A strict reader of the Prometheus text format (version 0.0.4): every line must be a HELP or
 * TYPE comment or a sample of a declared family, label values unescaped, values numbers.
 * Throws on the first line that is not.
 */
export function parsePrometheusText(text: string): Exposition {
  const families = new Map<string, Family>();
  const samples: Sample[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const fail = (why: string): never => {
      throw new Error(`line ${index + 1} ${why}: ${line}`);
    };
    const comment = COMMENT_LINE.exec(line);
    if (comment) {
      const [, keyword, name, rest] = comment;
      const family = families.get(name) ?? { name, type: 'untyped', help: '' };
      if (keyword === 'TYPE') {
        if (!TYPES.has(rest)) fail('has an unknown type');
        family.type = rest;
      } else {
        family.help = rest;
      }
      families.set(name, family);
      continue;
    }
    if (line.startsWith('#')) fail('is a malformed comment');
    const sample = SAMPLE_LINE.exec(line) ?? fail('is not a sample');
    const [, name, labelText = '', rawValue] = sample;
    const value = parseValue(rawValue) ?? fail('has a value that is not a number');
    const labels: Record<string, string> = {};
    for (const [, key, escaped] of labelText.matchAll(LABEL_PAIR)) {
      labels[key] = escaped.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const declared = [...families.values()].some((f) => (SUFFIXES[f.type] ?? ['']).some((suffix) => f.name + suffix === name));
    if (!declared) fail('belongs to no declared family');
    samples.push({ name, labels, value });
  }
  return { families, samples };
}

/** As Prometheus reads values (Go's `ParseFloat`): Inf and NaN in any case, with a sign. */
function parseValue(raw: string): number | undefined {
  if (/^[+-]?(inf|infinity)$/i.test(raw)) return raw.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(raw)) return NaN;
  const value = Number(raw);
  return raw.trim() === '' || Number.isNaN(value) ? undefined : value;
}

/** The value of the one sample with this name whose labels include `labels`; 0 when absent. */
export function sampleValue(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}
