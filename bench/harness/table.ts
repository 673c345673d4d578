/** Tables and number formats of the benches' reports (markdown on stdout, to paste into bench/README.md). */

/** Column alignment: left or right. */
export type Align = 'l' | 'r';

/** Width as a terminal shows it: code points, not UTF-16 units. */
const width = (s: string): number => [...s].length;
const pad = (s: string, w: number, a: Align): string => (a === 'r' ? ' '.repeat(w - width(s)) + s : s + ' '.repeat(w - width(s)));

function widths(rows: readonly (readonly string[])[], min: number): number[] {
  return rows[0]!.map((_, c) => Math.max(min, ...rows.map((r) => width(r[c] ?? ''))));
}

/** The alignment of column `c`: `align[c]`, else the first column left and the others right. */
const alignOf = (align: readonly Align[] | undefined, c: number): Align => align?.[c] ?? (c === 0 ? 'l' : 'r');

/** A markdown table; `rows[0]` is the header. Columns are padded so that the source reads as a table too. */
export function markdownTable(rows: readonly (readonly string[])[], align?: readonly Align[]): string {
  const w = widths(rows, 3);
  const line = (r: readonly string[]): string => `| ${w.map((wc, c) => pad(r[c] ?? '', wc, alignOf(align, c))).join(' | ')} |`;
  const sep = `| ${w.map((wc, c) => (alignOf(align, c) === 'r' ? `${'-'.repeat(wc - 1)}:` : '-'.repeat(wc))).join(' | ')} |`;
  return [line(rows[0]!), sep, ...rows.slice(1).map(line)].join('\n');
}

/** A plain-text table (columns separated by two spaces); `rows[0]` is the header. */
export function textTable(rows: readonly (readonly string[])[], align?: readonly Align[]): string {
  const w = widths(rows, 0);
  return rows
    .map((r) =>
      w
        .map((wc, c) => pad(r[c] ?? '', wc, alignOf(align, c)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Number formats shared by the reports. */
export const fmt = {
  /** A rate: 1.23 M, 45.6 k, 789. */
  rate: (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0)),
  /** Millions with two decimals: 1.23 M. */
  mega: (x: number): string => `${(x / 1e6).toFixed(2)} M`,
  /** A ratio: ×1.23. */
  times: (x: number): string => `×${x.toFixed(2)}`,
  pct: (x: number): string => `${x.toFixed(1)} %`,
  micros: (x: number): string => `${x.toFixed(1)} µs`,
  secs: (x: number): string => `${x.toFixed(3)} s`,
};

/** The first line of `s` (an error's message without its stack), at most `max` characters. */
export function firstLine(s: string, max = 200): string {
  return s.split('\n')[0]!.slice(0, max);
}
