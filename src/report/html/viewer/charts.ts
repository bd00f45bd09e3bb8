import * as Plot from '@observablehq/plot';
import { RANKED_SCORES_MAX_UNITS, type PageData, type PageGroup, type UnitStatus } from '../pageData.js';
import { formatCount, formatNumber, STATUS_COLORS } from './dom.js';

const statusColor = {
  domain: ['kept', 'removed', 'declined'],
  range: [STATUS_COLORS.kept, STATUS_COLORS.removed, STATUS_COLORS.declined],
  legend: true,
} as const;

const unitColor = { domain: ['kept', 'removed'], range: [STATUS_COLORS.kept, STATUS_COLORS.removed], legend: true } as const;

export interface Unit {
  /** The unit's index in its group. */
  unit: number;
  status: UnitStatus;
  score: number;
  degree?: number;
  active?: number;
}

/** The units of a scored group, with whatever the report has on each. */
export function unitsOf(g: PageGroup): Unit[] {
  const degrees = g.graphs?.length === 1 ? g.graphs[0]!.degrees : undefined;
  return Array.from({ length: g.units }, (_, unit) => ({
    unit,
    status: g.status?.[unit] === '0' ? 'removed' : 'kept',
    score: g.scores?.[unit] ?? 0,
    ...(degrees ? { degree: degrees[unit]! } : {}),
    ...(g.activeFraction ? { active: g.activeFraction[unit]! } : {}),
  }));
}

/** Kept and removed units of every group in model order: one kept bar (and one removed bar) per group. */
export function layerChart(groups: readonly PageGroup[], width: number): SVGSVGElement | HTMLElement {
  const rows = groups.map((g) => ({ ...g, removedUnits: g.units - g.kept, state: g.declined !== undefined ? 'declined' : 'kept' }));
  const title = (g: (typeof rows)[number]): string =>
    `#${g.id} ${g.producers.join(', ')}\n${g.kept}/${g.units} kept${g.declined !== undefined ? `\ndeclined: ${g.declined}` : ''}`;
  return Plot.plot({
    width,
    height: 40 + 16 * rows.length,
    marginLeft: Math.min(320, 20 + 6.2 * Math.max(...rows.map((g) => g.label.length + 4))),
    x: { label: 'units', grid: true, axis: 'top', insetRight: 60 },
    y: { domain: rows.map((g) => g.id), tickFormat: (id: number) => `#${id} ${groups.find((g) => g.id === id)!.label}`, label: null },
    color: statusColor,
    marks: [
      Plot.barX(rows, { y: 'id', x1: 0, x2: 'kept', fill: 'state', title, className: 'kept' }),
      Plot.barX(rows, { y: 'id', x1: 'kept', x2: 'units', fill: () => 'removed', title, className: 'removed' }),
      Plot.text(rows, { y: 'id', x: 'units', text: (g: (typeof rows)[number]) => `${g.kept}/${g.units}`, textAnchor: 'start', dx: 4, fill: '#555' }),
      Plot.ruleX([0]),
    ],
  });
}

/**
 * Where the ranking cut the group's scores. Small groups: every unit as a dot, ranked by score (a quantile plot), and
 * the cut between the last removed and the first kept rank; larger groups: the histogram, kept and removed stacked,
 * and the cut score.
 */
export function scoreChart(g: PageGroup, units: readonly Unit[], keep: 'central' | 'peripheral', width: number): SVGSVGElement | HTMLElement {
  const scoreLabel = `score (${g.method ?? 'criterion'})`;
  if (units.length <= RANKED_SCORES_MAX_UNITS) {
    // Ranked in the order units are removed: the removed come first.
    const sign = keep === 'central' ? 1 : -1;
    const ranked = [...units].sort((a, b) => sign * (a.score - b.score) || a.unit - b.unit).map((u, rank) => ({ ...u, rank }));
    const removed = ranked.filter((u) => u.status === 'removed').length;
    return Plot.plot({
      width,
      height: 200,
      x: { label: keep === 'central' ? 'rank (lowest score first)' : 'rank (highest score first)', domain: [-0.5, units.length - 0.5], ticks: rankTicks(units.length) },
      y: { label: scoreLabel, grid: true },
      color: unitColor,
      marks: [
        Plot.dot(ranked, { x: 'rank', y: 'score', fill: 'status', r: units.length > 100 ? 2 : 3, title: unitTitle, className: 'ranked-scores' }),
        ...(removed > 0 && removed < units.length ? [
          Plot.ruleX([removed - 0.5], { stroke: '#222', strokeDasharray: '4 3', className: 'cut' }),
          Plot.text([removed - 0.5], { x: (d: number) => d, frameAnchor: 'top', text: () => 'cut', textAnchor: 'start', dx: 3 }),
        ] : []),
      ],
    });
  }
  return Plot.plot({
    width,
    height: 200,
    x: { label: scoreLabel },
    y: { label: 'units', grid: true },
    color: unitColor,
    marks: [
      Plot.rectY(units, Plot.binX<Plot.RectYOptions>({ y: 'count' }, { x: 'score', fill: 'status', thresholds: 40, className: 'score-bins' })),
      Plot.ruleY([0]),
      ...(g.cut !== undefined ? [
        Plot.ruleX([g.cut], { stroke: '#222', strokeDasharray: '4 3', className: 'cut' }),
        Plot.text([g.cut], { x: (d: number) => d, frameAnchor: 'top', text: () => 'cut', textAnchor: 'start', dx: 3 }),
      ] : []),
    ],
  });
}

/** Whole ranks, about ten of them. */
function rankTicks(n: number): number[] {
  const step = Math.max(1, Math.ceil(n / 10));
  return Array.from({ length: Math.ceil(n / step) }, (_, i) => i * step);
}

/** The degree distribution at τ (for graphs too large to draw). */
export function degreeChart(units: readonly Unit[], tau: number, width: number): SVGSVGElement | HTMLElement {
  return Plot.plot({
    width,
    height: 200,
    x: { label: `neighbours at τ = ${tau}` },
    y: { label: 'units', grid: true },
    color: unitColor,
    marks: [Plot.rectY(units, Plot.binX<Plot.RectYOptions>({ y: 'count' }, { x: 'degree', fill: 'status', className: 'degree-bins' })), Plot.ruleY([0])],
  });
}

/** Per-unit liveness on the calibration data against the unit's score. */
export function livenessChart(units: readonly Unit[], width: number): SVGSVGElement | HTMLElement {
  return Plot.plot({
    width,
    height: 220,
    x: { label: 'score' },
    y: { label: 'active on calibration samples', domain: [0, 1], tickFormat: '%', grid: true },
    color: unitColor,
    marks: [Plot.dot(units, { x: 'score', y: 'active', fill: 'status', r: 2.5, title: (u: Unit) => `unit ${u.unit}: ${formatNumber((u.active ?? 0) * 100)}% active`, className: 'liveness' })],
  });
}

/** Loss and accuracy per epoch of fine-tuning. */
export function finetuneChart(f: NonNullable<PageData['finetune']>, width: number): SVGSVGElement | HTMLElement {
  const points = f.history.flatMap((e) => [
    { epoch: e.epoch, value: e.accuracy, series: 'training accuracy' },
    ...(e.valAccuracy !== undefined ? [{ epoch: e.epoch, value: e.valAccuracy, series: 'validation accuracy' }] : []),
  ]);
  return Plot.plot({
    width,
    height: 220,
    x: { label: 'epoch', ticks: f.history.length, tickFormat: 'd' },
    y: { label: 'accuracy', tickFormat: '%', grid: true },
    color: { legend: true },
    marks: [
      Plot.ruleY([f.initialAccuracy], { stroke: '#888', strokeDasharray: '3 3' }),
      Plot.lineY(points, { x: 'epoch', y: 'value', stroke: 'series', marker: 'circle' }),
      Plot.ruleX([f.bestEpoch], { stroke: '#888' }),
    ],
  });
}

export function unitTitle(u: Unit): string {
  return `unit ${u.unit} (${u.status})\nscore ${formatNumber(u.score)}${u.degree !== undefined ? `\n${formatCount(u.degree)} neighbours` : ''}`;
}
