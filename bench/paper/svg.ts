/** Hand-written SVG charts: small multiples of line plots or per-arm dot charts, with ±1 std error bars. */

export interface Point {
  x: number;
  mean: number;
  std: number;
}

export interface Series {
  name: string;
  color: string;
  points: Point[];
  dashed?: boolean;
}

export interface LinePanel {
  title: string;
  series: Series[];
  xTicks: number[];
}

export interface Dot {
  label: string;
  mean: number;
  std: number;
  color: string;
}

export interface DotPanel {
  title: string;
  dots: Dot[];
}

const PANEL_W = 300;
const PANEL_H = 220;
const M = { left: 46, right: 12, top: 26, bottom: 38 };
const HEADER = 34;
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#7f7f7f'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const f = (x: number): string => (Math.round(x * 10) / 10).toString();

/** Tick values covering [lo, hi] with a 1/2/5·10^k step. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) [lo, hi] = [lo - 1, hi + 1];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.floor(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.round(t / step) * step);
  if (ticks[ticks.length - 1]! < hi) ticks.push(ticks[ticks.length - 1]! + step);
  return ticks;
}

interface Frame {
  x0: number;
  y0: number;
  w: number;
  h: number;
  sy: (v: number) => number;
}

/** Panel border, title, y grid and labels; returns the SVG and the y scale. */
function frame(title: string, col: number, row: number, values: number[]): { svg: string[]; fr: Frame } {
  const x0 = col * PANEL_W + M.left;
  const y0 = HEADER + row * PANEL_H + M.top;
  const w = PANEL_W - M.left - M.right;
  const h = PANEL_H - M.top - M.bottom;
  const ticks = niceTicks(Math.min(...values), Math.max(...values));
  const lo = ticks[0]!;
  const hi = ticks[ticks.length - 1]!;
  const sy = (v: number): number => y0 + h - ((v - lo) / (hi - lo)) * h;
  const svg = [`<text x="${f(x0 + w / 2)}" y="${f(y0 - 9)}" text-anchor="middle" font-size="11" ${FONT}>${esc(title)}</text>`];
  for (const t of ticks) {
    svg.push(`<line x1="${f(x0)}" x2="${f(x0 + w)}" y1="${f(sy(t))}" y2="${f(sy(t))}" stroke="#e4e4e4"/>`);
    svg.push(`<text x="${f(x0 - 4)}" y="${f(sy(t) + 3.5)}" text-anchor="end" font-size="10" ${FONT}>${+t.toFixed(6)}</text>`);
  }
  svg.push(`<rect x="${f(x0)}" y="${f(y0)}" width="${f(w)}" height="${f(h)}" fill="none" stroke="#888"/>`);
  return { svg, fr: { x0, y0, w, h, sy } };
}

function errorBar(x: number, p: { mean: number; std: number }, sy: (v: number) => number, color: string): string {
  if (!(p.std > 0)) return '';
  const [a, b] = [sy(p.mean - p.std), sy(p.mean + p.std)];
  return `<path d="M${f(x)} ${f(a)}V${f(b)}M${f(x - 3)} ${f(a)}h6M${f(x - 3)} ${f(b)}h6" stroke="${color}" fill="none"/>`;
}

function document(title: string, cols: number, rows: number, body: string[], legend: { name: string; color: string; dashed?: boolean }[], yLabel: string): string {
  const width = cols * PANEL_W;
  // Legend entries flow left to right and wrap; text width estimated at 6 px per character (11 px sans-serif).
  const items: string[] = [];
  let x = 10;
  let y = HEADER + rows * PANEL_H + 12;
  for (const l of legend) {
    const w = 32 + 6 * l.name.length;
    if (x + w > width && x > 10) [x, y] = [10, y + 18];
    items.push(`<line x1="${f(x)}" x2="${f(x + 18)}" y1="${y}" y2="${y}" stroke="${l.color}" stroke-width="3"${l.dashed ? ' stroke-dasharray="5 3"' : ''}/>` +
      `<text x="${f(x + 22)}" y="${y + 4}" font-size="11" ${FONT}>${esc(l.name)}</text>`);
    x += w;
  }
  const height = y + 12;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold" ${FONT}>${esc(title)}</text>`,
    `<text x="${width - 10}" y="20" text-anchor="end" font-size="10" fill="#555" ${FONT}>${esc(yLabel)}</text>`,
    ...body, ...items, '</svg>', '',
  ].join('\n');
}

/** Line plots (x numeric), one panel per entry, `cols` panels per row, with a shared legend. */
export function linePlot(title: string, panels: LinePanel[], cols: number, xLabel: string, yLabel: string): string {
  const body: string[] = [];
  panels.forEach((p, i) => {
    const values = p.series.flatMap((s) => s.points.flatMap((q) => [q.mean - q.std, q.mean + q.std]));
    const { svg, fr } = frame(p.title, i % cols, Math.floor(i / cols), values.length ? values : [0, 1]);
    body.push(...svg);
    const xs = p.xTicks;
    const [xl, xh] = [Math.min(...xs), Math.max(...xs)];
    const pad = (xh - xl) * 0.06 || 1;
    const sx = (v: number): number => fr.x0 + ((v - xl + pad) / (xh - xl + 2 * pad)) * fr.w;
    for (const t of xs) body.push(`<text x="${f(sx(t))}" y="${f(fr.y0 + fr.h + 13)}" text-anchor="middle" font-size="10" ${FONT}>${t}</text>`);
    body.push(`<text x="${f(fr.x0 + fr.w / 2)}" y="${f(fr.y0 + fr.h + 27)}" text-anchor="middle" font-size="10" fill="#555" ${FONT}>${esc(xLabel)}</text>`);
    p.series.forEach((s, k) => {
      // Series at the same x are nudged apart so their error bars do not overlap.
      const nudge = (k - (p.series.length - 1) / 2) * 3;
      const pts = [...s.points].sort((a, b) => a.x - b.x);
      if (pts.length > 1) body.push(`<polyline points="${pts.map((q) => `${f(sx(q.x) + nudge)},${f(fr.sy(q.mean))}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
      for (const q of pts) {
        body.push(errorBar(sx(q.x) + nudge, q, fr.sy, s.color));
        body.push(`<circle cx="${f(sx(q.x) + nudge)}" cy="${f(fr.sy(q.mean))}" r="2.8" fill="${s.color}"/>`);
      }
    });
  });
  const legend = new Map<string, { name: string; color: string; dashed?: boolean }>();
  for (const p of panels) for (const s of p.series) legend.set(s.name, { name: s.name, color: s.color, ...(s.dashed ? { dashed: true } : {}) });
  return document(title, cols, Math.ceil(panels.length / cols), body, [...legend.values()], yLabel);
}

/** Dot charts (one dot per arm, ±1 std bars), one panel per entry; bars carry their label in the legend (same order and colours in every panel). */
export function dotPlot(title: string, panels: DotPanel[], cols: number, yLabel: string): string {
  const body: string[] = [];
  panels.forEach((p, i) => {
    const values = p.dots.flatMap((b) => [b.mean - b.std, b.mean + b.std]);
    const { svg, fr } = frame(p.title, i % cols, Math.floor(i / cols), values.length ? values : [0, 1]);
    body.push(...svg);
    const slot = fr.w / Math.max(1, p.dots.length);
    const base = fr.y0 + fr.h;
    p.dots.forEach((b, k) => {
      const cx = fr.x0 + slot * (k + 0.5);
      // A dot, not a bar: the y axis does not start at 0, and a bar's length would exaggerate differences.
      body.push(errorBar(cx, b, fr.sy, b.color));
      body.push(`<circle cx="${f(cx)}" cy="${f(fr.sy(b.mean))}" r="4" fill="${b.color}"/>`);
      body.push(`<text x="${f(cx)}" y="${f(base + 13)}" text-anchor="middle" font-size="10" ${FONT}>${esc(b.label.split(' ')[0]!)}</text>`);
    });
  });
  const legend = panels[0]?.dots.map((b) => ({ name: b.label, color: b.color })) ?? [];
  return document(title, cols, Math.ceil(panels.length / cols), body, legend, yLabel);
}
