/** Plain-text tables for the CLI's reports: columns padded to their widest cell, numbers right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number' || /^[\d.,/%→ -]+[kMG]?$/.test(String(r[c]))));
  const line = (r: readonly string[]): string =>
    r.map((s, c) => (numeric[c] ? s.padStart(widths[c]!) : s.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** 1234567 → "1.23M": counts of params and MACs at a glance. */
export function humanCount(n: number): string {
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [v, u] of units) if (Math.abs(n) >= v) return `${(n / v).toFixed(2)}${u}`;
  return String(n);
}
