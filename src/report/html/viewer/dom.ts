import { format } from 'd3';
import type { PageFigure } from '../pageData.js';

type Child = Node | string | number | null | undefined | false;

/** A DOM element with attributes and children (strings become text: nothing from the report is parsed as HTML). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | number | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export const STATUS_COLORS = { kept: '#4269d0', removed: '#ff725c', declined: '#c9c9c9' } as const;

const si = format('.3~s');
const pct = format('.1%');

export function formatCount(x: number): string {
  return Math.abs(x) < 1000 ? String(Math.round(x * 100) / 100) : si(x);
}

export function formatPercent(x: number): string {
  return pct(x);
}

export function formatFigure(x: number, kind: PageFigure['format']): string {
  switch (kind) {
    case 'count': return formatCount(x);
    case 'ms': return `${x < 10 ? x.toFixed(3) : x.toFixed(1)} ms`;
    case 'percent': return pct(x);
    default: return kind satisfies never;
  }
}

/** A number to a few significant digits for tables and tooltips. */
export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined) return '–';
  if (x === 0) return '0';
  return Math.abs(x) >= 1e-3 && Math.abs(x) < 1e6 ? String(Number(x.toPrecision(4))) : x.toExponential(2);
}
