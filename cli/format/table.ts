/** Plain-text formatting shared by the CLI's reports. */

/** Pads columns to their widest cell; `right[i]` right-aligns column i (numbers). The last column is not padded. */
export function alignColumns(rows: readonly (readonly string[])[], right: readonly boolean[] = []): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) => r.map((c, i) => (right[i] ? c.padStart(widths[i]!) : i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

/** A table with a header and a rule under it; columns whose cells all look numeric are right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((r) => r.map(String));
  const looksNumeric = (s: string): boolean => /^[\d.,/%→ -]+[kMGT]?( → [\d.]+[kMGT]?)?$/.test(s);
  const numeric = header.map((_, c) => {
    const filled = cells.map((r) => r[c] ?? '').filter((s) => s !== '');
    return filled.length > 0 && filled.every(looksNumeric);
  });
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((r) => (r[c] ?? '').length)));
  return alignColumns([[...header], widths.map((w) => '-'.repeat(w)), ...cells], numeric);
}

/** 1234567 → "1.23M": counts of params and MACs at a glance. */
export function humanCount(n: number): string {
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [v, u] of units) if (Math.abs(n) >= v) return `${(n / v).toFixed(2)}${u}`;
  return String(n);
}

/** 1536 → "1.50 KiB". */
export function humanBytes(n: number): string {
  const units: [number, string][] = [[2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']];
  for (const [scale, unit] of units) if (n >= scale) return `${(n / scale).toFixed(2)} ${unit}`;
  return `${n} B`;
}

/** 92359 → "92,359". */
export function groupedDigits(n: number): string {
  return n.toLocaleString('en-US');
}
