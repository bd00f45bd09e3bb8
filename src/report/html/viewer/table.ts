import { h } from './dom.js';

export interface Column<T> {
  label: string;
  /** The value the column sorts by. */
  value: (row: T) => number | string | undefined;
  /** What the cell shows (default: the value). */
  cell?: (row: T) => Node | string;
  numeric?: boolean;
  title?: string;
}

/** A table whose rows sort by any column (click a header; again for the reverse order). */
export function sortableTable<T>(rows: readonly T[], columns: readonly Column<T>[], opts: { label: string; rowAttrs?: (row: T) => Record<string, string | undefined> }): HTMLTableElement {
  const tbody = h('tbody');
  const headers = columns.map((c) => h('th', { scope: 'col', class: c.numeric ? 'num' : undefined, title: c.title }, h('button', { type: 'button' }, c.label)));
  const table = h('table', { class: 'sortable', 'aria-label': opts.label }, h('thead', {}, h('tr', {}, ...headers)), tbody);
  let order = rows.map((_, i) => i);
  const fill = (): void => {
    tbody.replaceChildren(...order.map((i) => {
      const row = rows[i]!;
      const tr = h('tr', opts.rowAttrs?.(row) ?? {});
      for (const c of columns) tr.append(h('td', { class: c.numeric ? 'num' : undefined }, c.cell ? c.cell(row) : String(c.value(row) ?? '')));
      return tr;
    }));
  };
  let sortedBy = -1;
  let ascending = true;
  headers.forEach((th, k) => th.querySelector('button')!.addEventListener('click', () => {
    ascending = sortedBy === k ? !ascending : true;
    sortedBy = k;
    const value = columns[k]!.value;
    const rank = (i: number): number | string => value(rows[i]!) ?? '';
    // Missing values last in either order; ties keep model order.
    order = rows.map((_, i) => i).sort((a, b) => {
      const x = rank(a);
      const y = rank(b);
      if (x === '' || y === '') return x === y ? a - b : x === '' ? 1 : -1;
      const c = x < y ? -1 : x > y ? 1 : 0;
      return (ascending ? c : -c) || a - b;
    });
    headers.forEach((other, j) => other.setAttribute('aria-sort', j === k ? (ascending ? 'ascending' : 'descending') : 'none'));
    fill();
  }));
  fill();
  return table;
}
