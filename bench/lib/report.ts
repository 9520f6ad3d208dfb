export interface Target {
  /** What the bound applies to: the ratio to the baseline, or sockplane's own figure. */
  on: 'ratio' | 'figure';
  atLeast?: number;
  atMost?: number;
}

/** One line of the results table. `ratio` is sockplane ÷ baseline; rows without a target are context. */
export interface ResultRow {
  scenario: string;
  unit: string;
  sockplane: number;
  baseline: number | null;
  baselineName: string;
  target: Target | null;
}

export function ratioOf(row: ResultRow): number | null {
  return row.baseline === null || row.baseline === 0 ? null : row.sockplane / row.baseline;
}

export function targetMet(row: ResultRow): boolean | null {
  if (!row.target) return null;
  const value = row.target.on === 'ratio' ? ratioOf(row) : row.sockplane;
  if (value === null) return null;
  if (row.target.atLeast !== undefined && value < row.target.atLeast) return false;
  if (row.target.atMost !== undefined && value > row.target.atMost) return false;
  return true;
}

function formatNumber(value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function formatTarget(row: ResultRow): string {
  if (!row.target) return '—';
  const bound = row.target.atLeast !== undefined ? `≥ ${row.target.atLeast}` : `≤ ${row.target.atMost}`;
  return row.target.on === 'ratio' ? `ratio ${bound}` : `${bound} ${row.unit}`;
}

/** The results as a Markdown table, readable in a terminal and pasteable into bench/README.md. */
export function renderTable(rows: ResultRow[]): string {
  const header = ['scenario', 'sockplane', 'baseline', 'ratio', 'target', 'met'];
  const lines = rows.map((row) => {
    const ratio = ratioOf(row);
    const met = targetMet(row);
    return [
      row.scenario,
      `${formatNumber(row.sockplane)} ${row.unit}`,
      row.baseline === null ? '—' : `${formatNumber(row.baseline)} ${row.unit} (${row.baselineName})`,
      ratio === null ? '—' : ratio.toFixed(2),
      formatTarget(row),
      met === null ? '—' : met ? 'yes' : 'NO',
    ];
  });
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i].length)));
  const render = (cells: string[]): string => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [render(header), render(widths.map((w) => '-'.repeat(w))), ...lines.map(render)].join('\n');
}

/** The p-th percentile (0–100) of the samples, nearest-rank. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}
